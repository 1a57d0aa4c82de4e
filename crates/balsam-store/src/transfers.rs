//! TransferItems: the files a job stages in and out.
//!
//! Repetition note: the per-resource store traits share one shape on purpose (one async
//! method per use case, owner first, `Result<_, StoreError>`).

use crate::StoreError;
use balsam_types::{Id, Page, Paginated, TransferItem, TransferPatch, TransferQuery, UserId};

#[async_trait::async_trait]
pub trait TransferStore {
    async fn list_transfers(
        &self,
        owner: UserId,
        query: &TransferQuery,
        page: Page,
    ) -> Result<Paginated<TransferItem>, StoreError>;
    async fn get_transfer(&self, owner: UserId, id: Id) -> Result<TransferItem, StoreError>;
    /// Applies the patches (all ids must be the owner's, else `NotFound` and nothing
    /// changes), then moves READY / POSTPROCESSED jobs whose transfers are all done.
    async fn update_transfers(
        &self,
        owner: UserId,
        patches: &[(Id, TransferPatch)],
    ) -> Result<Vec<TransferItem>, StoreError>;
}
