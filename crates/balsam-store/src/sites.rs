//! Sites: the per-user registry of Balsam Site agents.
//!
//! Repetition note: the per-resource store traits share one shape on purpose (one async
//! method per use case, owner first, `Result<_, StoreError>`).

use crate::StoreError;
use balsam_types::{Id, Page, Paginated, Site, SiteCreate, SiteQuery, SiteUpdate, UserId};

#[async_trait::async_trait]
pub trait SiteStore {
    /// Creates a Site with `creation_date = last_refresh = now`;
    /// `Conflict { constraint: "sites_owner_name_key" }` on a duplicate name.
    async fn create_site(&self, owner: UserId, site: &SiteCreate) -> Result<Site, StoreError>;
    /// The owner's Sites matching `query`, by ascending id.
    async fn list_sites(
        &self,
        owner: UserId,
        query: &SiteQuery,
        page: Page,
    ) -> Result<Paginated<Site>, StoreError>;
    /// One of the owner's Sites.
    async fn get_site(&self, owner: UserId, id: Id) -> Result<Site, StoreError>;
    /// Writes the fields present and always refreshes `last_refresh`.
    async fn update_site(
        &self,
        owner: UserId,
        id: Id,
        update: &SiteUpdate,
    ) -> Result<Site, StoreError>;
    /// Deletes a Site with its Apps, Jobs, BatchJobs, Sessions, TransferItems and LogEvents.
    async fn delete_site(&self, owner: UserId, id: Id) -> Result<(), StoreError>;
}
