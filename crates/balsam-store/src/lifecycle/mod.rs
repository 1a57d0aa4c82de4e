//! The job lifecycle, shared by both backends: bulk-create validation and initial states
//! ([`create`]), the update state machine with its side effects ([`update`]), deletions
//! that reach other resources ([`cascade`]), and the JSON documents the backends expand
//! ([`documents`]).
//!
//! Backends implement [`JobTx`] ([`tx`]), a handful of set-based primitives over one open
//! transaction; every function here issues a fixed number of them per call, whatever the
//! number of jobs, so bulk work stays a handful of statements. No SQL text passes through
//! this layer: a primitive is named ([`Dependents`]), and each backend writes its SQL.

mod cascade;
mod create;
mod documents;
mod helpers;
mod tx;
mod update;

pub(crate) use cascade::{
    delete_app_cascade, delete_batch_job, delete_jobs_by_ids, delete_site_cascade, end_session,
};
pub(crate) use create::{create_jobs, logged_events, new_job};
pub(crate) use documents::{
    batch_job_writes, events_document, jobs_document, transfers_document, writes_document,
    ColumnKind, PATCH_COLUMNS,
};
pub(crate) use helpers::{bad, distinct, one_message};
pub(crate) use tx::{
    AppInfo, Dependents, IdListTx, JobHead, JobTx, JobWrite, NewJob, NewLogEvent, NewTransfer,
    TransferHead,
};
pub(crate) use update::{advance_after_transfers, update_jobs};
