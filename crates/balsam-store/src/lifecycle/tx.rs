//! The transaction a lifecycle use case runs in: [`JobTx`], the set-based primitives each
//! backend implements over one open write transaction, and the rows they exchange.

use crate::StoreError;
use balsam_types::{
    Id, Job, JobCreate, JobQuery, JobState, LogEvent, Session, TransferItem, UserId,
};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// The part of a job the state machine reads.
#[derive(Debug, Clone)]
pub(crate) struct JobHead {
    pub id: Id,
    pub state: JobState,
    pub session_id: Option<Id>,
}

/// One TransferItem, as far as transitions care.
#[derive(Debug, Clone)]
pub(crate) struct TransferHead {
    pub job_id: Id,
    pub is_stage_in: bool,
    pub done: bool,
}

/// Columns to write on one job: `fields` holds only the keys to set (`state` included
/// when it changes); `last_update` is always set.
#[derive(Debug, Clone)]
pub(crate) struct JobWrite {
    pub id: Id,
    pub fields: Map<String, Value>,
    pub release_lock: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct NewLogEvent {
    pub job_id: Id,
    pub timestamp: DateTime<Utc>,
    pub from_state: JobState,
    pub to_state: JobState,
    pub data: Map<String, Value>,
}

/// What a bulk create needs to know of an App.
#[derive(Debug, Clone)]
pub(crate) struct AppInfo {
    pub id: Id,
    pub site_id: Id,
    pub name: String,
    pub transfers: Map<String, Value>,
    pub transfer_locations: Map<String, Value>,
}

pub(crate) struct NewJob<'a> {
    pub id: Id,
    pub site_id: Id,
    pub state: JobState,
    pub spec: &'a JobCreate,
}

pub(crate) struct NewTransfer {
    pub job_id: Id,
    pub is_stage_in: bool,
    pub local_path: String,
    pub remote_path: String,
    pub recursive: bool,
    pub location_alias: String,
}

/// Rows that hang off one parent row, which a cascade reads before it deletes or
/// unlinks them (each backend's SQL: [`crate::shared::cascade`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dependents {
    SiteJobs,
    SiteSessions,
    SiteBatchJobs,
    SiteApps,
    AppJobs,
    BatchJobJobs,
    BatchJobSessions,
    SessionJobs,
    SessionRunningJobs,
}

/// The primitives that read, update or delete rows by id lists: the same SQL on both
/// backends, written once ([`crate::shared::job_tx`]).
#[async_trait::async_trait]
pub(crate) trait IdListTx: Send {
    /// The owner's jobs among `ids`, locked for the rest of the transaction.
    async fn job_heads(&mut self, owner: UserId, ids: &[Id]) -> Result<Vec<JobHead>, StoreError>;
    /// Ids of the owner's jobs matching `query`, at most `limit`.
    async fn matching_job_ids(
        &mut self,
        owner: UserId,
        query: &JobQuery,
        limit: i64,
    ) -> Result<Vec<Id>, StoreError>;
    /// States of the owner's jobs among `ids`.
    async fn job_states(
        &mut self,
        owner: UserId,
        ids: &[Id],
    ) -> Result<Vec<(Id, JobState)>, StoreError>;
    async fn transfer_heads(&mut self, job_ids: &[Id]) -> Result<Vec<TransferHead>, StoreError>;
    /// Stage-out items of these jobs in `awaiting_job` become `pending`; returns them.
    async fn activate_stage_outs(
        &mut self,
        job_ids: &[Id],
    ) -> Result<Vec<TransferItem>, StoreError>;
    /// Of `ids`, the owner's BatchJobs.
    async fn owned_batch_jobs(&mut self, owner: UserId, ids: &[Id]) -> Result<Vec<Id>, StoreError>;
    async fn apps_for_create(
        &mut self,
        owner: UserId,
        ids: &[Id],
    ) -> Result<Vec<AppInfo>, StoreError>;
    /// Ids of the rows `which` names under `parent`, in id order.
    async fn dependents(&mut self, which: Dependents, parent: Id) -> Result<Vec<Id>, StoreError>;
    /// Deletes one BatchJob row; its jobs and sessions lose the link (`ON DELETE SET NULL`).
    async fn delete_batch_job_row(&mut self, id: Id) -> Result<(), StoreError>;
    /// Deletes one Session row; its jobs lose their lock (`ON DELETE SET NULL`).
    async fn delete_session_row(&mut self, id: Id) -> Result<(), StoreError>;
    /// Ids of the TransferItems and LogEvents of these jobs (they go with them).
    async fn dependent_ids(&mut self, job_ids: &[Id]) -> Result<(Vec<Id>, Vec<Id>), StoreError>;
    /// Deletes job rows (their TransferItems, LogEvents and parent links cascade).
    async fn delete_job_rows(&mut self, ids: &[Id]) -> Result<(), StoreError>;
    /// Full job rows, in the order of `ids`.
    async fn fetch_jobs(&mut self, ids: &[Id]) -> Result<Vec<Job>, StoreError>;
}

/// Set-based primitives over one open write transaction; each backend writes its own.
#[async_trait::async_trait]
pub(crate) trait JobTx: IdListTx + Send {
    /// Applies the writes and returns the written jobs, full rows in the order of
    /// `writes` (`RETURNING`: no second read for the change records).
    async fn write_jobs(
        &mut self,
        writes: &[JobWrite],
        now: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError>;
    /// Adds `sign` × each tag pair of the jobs `ids`, as they are now, to
    /// `job_tag_counts` (migration 0010), around a write that retags them
    /// (`update::write_jobs_counting_tags`). Taking pairs out (`sign < 0`) also drops the
    /// counter rows of the pairs that are left with no job (migration 0012).
    async fn shift_tag_counts(&mut self, ids: &[Id], sign: i64) -> Result<(), StoreError>;
    /// Inserts the LogEvents of `owner`'s jobs (the owner is stored with each event), and
    /// adds those the charts count to the per-minute rollup (`shared::aggregates`).
    async fn insert_log_events(
        &mut self,
        owner: UserId,
        events: &[NewLogEvent],
    ) -> Result<Vec<LogEvent>, StoreError>;
    /// The owner's AWAITING_PARENTS children of `parents` whose parents are now all
    /// JOB_FINISHED (a deleted parent never is).
    async fn releasable_children(
        &mut self,
        owner: UserId,
        parents: &[Id],
    ) -> Result<Vec<Id>, StoreError>;
    /// Reserves `n` consecutive-or-not fresh job ids, in order.
    async fn allocate_job_ids(&mut self, n: usize) -> Result<Vec<Id>, StoreError>;
    /// Inserts the jobs and returns them as stored, in the order of `jobs`.
    async fn insert_jobs(
        &mut self,
        owner: UserId,
        jobs: &[NewJob<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError>;
    async fn insert_job_parents(&mut self, pairs: &[(Id, Id)]) -> Result<(), StoreError>;
    async fn insert_transfers(
        &mut self,
        items: &[NewTransfer],
    ) -> Result<Vec<TransferItem>, StoreError>;
    /// Full Session rows, by id.
    async fn fetch_sessions(&mut self, ids: &[Id]) -> Result<Vec<Session>, StoreError>;
}
