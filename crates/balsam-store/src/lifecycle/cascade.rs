//! Deletions that reach other resources: a job's TransferItems and LogEvents, a Site's or
//! App's jobs, a BatchJob's or Session's links. Every removed or unlinked instance is
//! recorded, so a client hears of each.
//!
//! Repetition note: the use cases share their signature (transaction, owner, ids, clock,
//! outbox) on purpose; it is the lifecycle's calling convention.

use super::update::time_out_running;
use super::{Dependents, JobTx};
use crate::StoreError;
use balsam_types::{App, BatchJob, Id, Job, LogEvent, Outbox, Session, Site, TransferItem, UserId};
use chrono::{DateTime, Utc};

/// Deletes jobs with everything hanging off them and records every deletion, so a
/// client hears of each removed Job, TransferItem and LogEvent.
#[tracing::instrument(level = "debug", skip_all, fields(n = ids.len()))]
pub(crate) async fn delete_jobs_by_ids(
    tx: &mut dyn JobTx,
    ids: &[Id],
    out: &mut Outbox,
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let (transfers, events) = tx.dependent_ids(ids).await?;
    tx.delete_job_rows(ids).await?;
    out.bulk_deleted::<LogEvent>(&events);
    out.bulk_deleted::<TransferItem>(&transfers);
    out.bulk_deleted::<Job>(ids);
    Ok(())
}

/// Deletes a Site's jobs (recording every removed Job, TransferItem and LogEvent) and
/// records the deletion of its Sessions, BatchJobs, Apps and itself; the caller then
/// deletes the Site row and the database cascades the rest.
#[tracing::instrument(level = "debug", skip_all, fields(site_id = site_id))]
pub(crate) async fn delete_site_cascade(
    tx: &mut dyn JobTx,
    site_id: Id,
    out: &mut Outbox,
) -> Result<(), StoreError> {
    let jobs = tx.dependents(Dependents::SiteJobs, site_id).await?;
    delete_jobs_by_ids(tx, &jobs, out).await?;
    let sessions = tx.dependents(Dependents::SiteSessions, site_id).await?;
    let batch_jobs = tx.dependents(Dependents::SiteBatchJobs, site_id).await?;
    let apps = tx.dependents(Dependents::SiteApps, site_id).await?;
    out.deleted::<Session>(&sessions);
    out.deleted::<BatchJob>(&batch_jobs);
    out.deleted::<App>(&apps);
    out.deleted::<Site>(&[site_id]);
    Ok(())
}

/// Deletes an App's jobs (recorded) and records the App's deletion; the caller deletes
/// the row.
#[tracing::instrument(level = "debug", skip_all, fields(app_id = app_id))]
pub(crate) async fn delete_app_cascade(
    tx: &mut dyn JobTx,
    app_id: Id,
    out: &mut Outbox,
) -> Result<(), StoreError> {
    let jobs = tx.dependents(Dependents::AppJobs, app_id).await?;
    delete_jobs_by_ids(tx, &jobs, out).await?;
    out.deleted::<App>(&[app_id]);
    Ok(())
}

/// Deletes a BatchJob; the jobs and sessions that pointed at it lose the link, and the
/// client hears of each of them.
#[tracing::instrument(level = "debug", skip_all, fields(id = id))]
pub(crate) async fn delete_batch_job(
    tx: &mut dyn JobTx,
    id: Id,
    out: &mut Outbox,
) -> Result<(), StoreError> {
    let jobs = tx.dependents(Dependents::BatchJobJobs, id).await?;
    let sessions = tx.dependents(Dependents::BatchJobSessions, id).await?;
    tx.delete_batch_job_row(id).await?;
    out.bulk_updated(&tx.fetch_jobs(&jobs).await?);
    for session in tx.fetch_sessions(&sessions).await? {
        out.updated(&session);
    }
    out.deleted::<BatchJob>(&[id]);
    Ok(())
}

/// Ends one of the owner's sessions: its RUNNING jobs time out through the state machine,
/// the session row goes, and the jobs it still held are unlocked (all recorded).
#[tracing::instrument(level = "debug", skip_all, fields(owner = owner, session_id = session_id))]
pub(crate) async fn end_session(
    tx: &mut dyn JobTx,
    owner: UserId,
    session_id: Id,
    now: DateTime<Utc>,
    out: &mut Outbox,
) -> Result<(), StoreError> {
    let running = tx
        .dependents(Dependents::SessionRunningJobs, session_id)
        .await?;
    time_out_running(tx, owner, &running, now, out).await?;
    let held = tx.dependents(Dependents::SessionJobs, session_id).await?;
    tx.delete_session_row(session_id).await?;
    out.bulk_updated(&tx.fetch_jobs(&held).await?);
    out.deleted::<Session>(&[session_id]);
    Ok(())
}
