//! Reading a filtered job list in full, page by page (for `GET /jobs/export`): keyset on
//! the id, so each page is an index range after the last id sent and memory stays one page
//! whatever the number of jobs.
//!
//! Repetition note: the trait's method signature repeats in its one implementation,
//! `shared/jobs.rs`, as Rust requires.

use crate::StoreError;
use balsam_types::{Id, Job, JobQuery, UserId};

#[async_trait::async_trait]
pub trait JobExportStore {
    /// Up to `limit` of the owner's jobs matching `query` (its ordering is ignored) with an
    /// id above `after`, by ascending id. Each call is its own snapshot.
    async fn export_jobs_after(
        &self,
        owner: UserId,
        query: &JobQuery,
        after: Id,
        limit: i64,
    ) -> Result<Vec<Job>, StoreError>;
}
