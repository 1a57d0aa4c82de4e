//! Sessions: job consumers (launchers, processing services) holding job locks.

use crate::StoreError;
use balsam_types::{Id, Job, Paginated, Session, SessionAcquire, SessionCreate, UserId};
use chrono::{DateTime, Utc};

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
