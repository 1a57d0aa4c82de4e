//! Apps: ApplicationDefinition index entries, one per (Site, class name).
//!
//! Repetition note: the per-resource store traits share one shape on purpose (one async
//! method per use case, owner first, `Result<_, StoreError>`).

use crate::StoreError;
use balsam_types::{App, AppCreate, AppQuery, AppUpdate, Id, Page, Paginated, UserId};

#[async_trait::async_trait]
pub trait AppStore {
    /// Creates an App at one of the owner's Sites (`NotFound` otherwise);
    /// `Conflict { constraint: "apps_site_name_key" }` on a duplicate (site, name).
    async fn create_app(&self, owner: UserId, app: &AppCreate) -> Result<App, StoreError>;
    /// The owner's Apps matching `query`, by ascending id.
    async fn list_apps(
        &self,
        owner: UserId,
        query: &AppQuery,
        page: Page,
    ) -> Result<Paginated<App>, StoreError>;
    /// One of the owner's Apps.
    async fn get_app(&self, owner: UserId, id: Id) -> Result<App, StoreError>;
    /// Writes the fields present. Moving to another Site requires owning it (`NotFound`)
    /// and moves the App's Jobs with it.
    async fn update_app(
        &self,
        owner: UserId,
        id: Id,
        update: &AppUpdate,
    ) -> Result<App, StoreError>;
    /// Deletes an App with its Jobs (and their TransferItems and LogEvents).
    async fn delete_app(&self, owner: UserId, id: Id) -> Result<(), StoreError>;
}
