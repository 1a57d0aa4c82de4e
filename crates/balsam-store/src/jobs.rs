//! Jobs: bulk creation, the update state machine with its side effects, deletion, counts.
//!
//! Repetition note: the per-resource store traits share one shape on purpose (one async
//! method per use case, owner first, `Result<_, StoreError>`).

use crate::StoreError;
use balsam_types::{
    Id, Job, JobBulkPatch, JobCreate, JobPatch, JobQuery, Page, Paginated, SiteStateCounts, UserId,
};

/// Which jobs an update targets.
#[derive(Debug, Clone, Copy)]
pub enum JobUpdate<'a> {
    /// `PATCH /jobs/`: one patch per id. Any missing id rejects the whole request.
    Patches(&'a [JobBulkPatch]),
    /// `PUT /jobs/{id}`: one job.
    One(Id, &'a JobPatch),
    /// `PUT /jobs/?…`: the same patch for every matching job (at most 5000).
    Query(&'a JobQuery, &'a JobPatch),
}

#[async_trait::async_trait]
pub trait JobStore {
    /// Creates jobs with their TransferItems, parents and creation LogEvents, all or
    /// nothing; returns them in request order.
    async fn create_jobs(&self, owner: UserId, jobs: &[JobCreate]) -> Result<Vec<Job>, StoreError>;
    /// The owner's jobs matching `query`.
    async fn list_jobs(
        &self,
        owner: UserId,
        query: &JobQuery,
        page: Page,
    ) -> Result<Paginated<Job>, StoreError>;
    /// One of the owner's jobs.
    async fn get_job(&self, owner: UserId, id: Id) -> Result<Job, StoreError>;
    /// Applies patches through the state machine (LogEvents, lock release, stage-out
    /// activation, children release); returns the number of targeted jobs.
    async fn update_jobs(&self, owner: UserId, update: JobUpdate<'_>) -> Result<u64, StoreError>;
    /// Deletes the owner's matching jobs that no Session holds; returns how many.
    async fn delete_jobs(&self, owner: UserId, query: &JobQuery) -> Result<u64, StoreError>;
    /// Deletes one job unless a Session holds it (`NotFound` when missing).
    async fn delete_job(&self, owner: UserId, id: Id) -> Result<(), StoreError>;
    /// Job counts per Site and state, from the transactionally maintained counters.
    async fn job_state_counts(&self, owner: UserId) -> Result<Vec<SiteStateCounts>, StoreError>;
}
