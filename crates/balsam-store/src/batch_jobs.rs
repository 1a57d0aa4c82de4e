//! BatchJobs: scheduler allocations at a Site.
//!
//! Repetition note: the per-resource store traits share one shape on purpose (one async
//! method per use case, owner first, `Result<_, StoreError>`).

use crate::StoreError;
use balsam_types::{
    BatchJob, BatchJobCreate, BatchJobPatch, BatchJobQuery, Id, Page, Paginated, UserId,
};

#[async_trait::async_trait]
pub trait BatchJobStore {
    /// `MissingReference`-free: a foreign site is `Invalid("No site with ID n")`.
    async fn create_batch_job(
        &self,
        owner: UserId,
        job: &BatchJobCreate,
    ) -> Result<BatchJob, StoreError>;
    async fn list_batch_jobs(
        &self,
        owner: UserId,
        query: &BatchJobQuery,
        page: Page,
    ) -> Result<Paginated<BatchJob>, StoreError>;
    async fn get_batch_job(&self, owner: UserId, id: Id) -> Result<BatchJob, StoreError>;
    /// Applies patches (a stored `pending_deletion` only moves to `finished`); any
    /// foreign id → `NotFound`, nothing applied. Returns the updated rows by id.
    async fn update_batch_jobs(
        &self,
        owner: UserId,
        patches: &[(Id, BatchJobPatch)],
    ) -> Result<Vec<BatchJob>, StoreError>;
    async fn delete_batch_job(&self, owner: UserId, id: Id) -> Result<(), StoreError>;
}
