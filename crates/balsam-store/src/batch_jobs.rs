//! BatchJobs and Sessions (the launcher locks, acquire, expiry).

use crate::StoreError;
use balsam_types::{
    BatchJob, BatchJobCreate, BatchJobPatch, BatchJobQuery, Id, Job, Page, Paginated, Session,
    SessionAcquire, SessionCreate, UserId,
};
use chrono::{DateTime, Utc};

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

#[async_trait::async_trait]
pub trait SessionStore {
    async fn create_session(
        &self,
        owner: UserId,
        session: &SessionCreate,
    ) -> Result<Session, StoreError>;
    async fn list_sessions(
        &self,
        owner: UserId,
        ids: &[Id],
    ) -> Result<Paginated<Session>, StoreError>;
    /// Refreshes the heartbeat (`NotFound` when missing or swept).
    async fn tick_session(&self, owner: UserId, id: Id) -> Result<(), StoreError>;
    /// Locks up to `max_num_jobs` eligible jobs for the session, never one held by another.
    async fn acquire_jobs(
        &self,
        owner: UserId,
        id: Id,
        spec: &SessionAcquire,
    ) -> Result<Vec<Job>, StoreError>;
    /// Times out the session's RUNNING jobs, unlocks the rest, deletes it.
    async fn delete_session(&self, owner: UserId, id: Id) -> Result<(), StoreError>;
    /// Deletes (as above) sessions whose heartbeat is older than `stale_before` or whose
    /// BatchJob is finished; of one owner, or of everyone. Returns how many.
    async fn sweep_sessions(
        &self,
        owner: Option<UserId>,
        stale_before: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}
