//! The job lifecycle, shared by both backends: bulk-create validation and initial states,
//! the update state machine with its side effects (LogEvents, lock release, stage-out
//! activation), transfer-driven advancement and the release of children.
//!
//! Backends implement [`JobTx`], a handful of set-based primitives over one open
//! transaction; every function here issues a fixed number of them per call, whatever
//! the number of jobs, so bulk work stays a handful of statements.

use crate::jobs::JobUpdate;
use crate::StoreError;
use balsam_types::job::{JobOrdering, MAX_ITEMS_PER_BULK_OP};
use balsam_types::job_state::{transition, TransferSummary};
use balsam_types::{
    App, BatchJob, Id, Job, JobCreate, JobPatch, JobQuery, JobState, LogEvent, LoggedEvent, Outbox,
    Session, SessionAcquire, Site, TransferItem, UserId,
};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

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

/// Set-based primitives over one open write transaction.
#[async_trait::async_trait]
pub(crate) trait JobTx: Send {
    /// The owner's jobs among `ids`, locked for the rest of the transaction.
    async fn job_heads(&mut self, owner: UserId, ids: &[Id]) -> Result<Vec<JobHead>, StoreError>;
    /// Ids of the owner's jobs matching `query`, at most `limit`.
    async fn matching_job_ids(
        &mut self,
        owner: UserId,
        query: &JobQuery,
        limit: i64,
    ) -> Result<Vec<Id>, StoreError>;
    async fn transfer_heads(&mut self, job_ids: &[Id]) -> Result<Vec<TransferHead>, StoreError>;
    /// Applies the writes and returns the written jobs, full rows in the order of
    /// `writes` (`RETURNING`: no second read for the change records).
    async fn write_jobs(
        &mut self,
        writes: &[JobWrite],
        now: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError>;
    /// Inserts the LogEvents of `owner`'s jobs (the owner is stored with each event).
    async fn insert_log_events(
        &mut self,
        owner: UserId,
        events: &[NewLogEvent],
    ) -> Result<Vec<LogEvent>, StoreError>;
    /// Stage-out items of these jobs in `awaiting_job` become `pending`; returns them.
    async fn activate_stage_outs(
        &mut self,
        job_ids: &[Id],
    ) -> Result<Vec<TransferItem>, StoreError>;
    /// The owner's AWAITING_PARENTS children of `parents` whose parents are now all
    /// JOB_FINISHED (a deleted parent never is).
    async fn releasable_children(
        &mut self,
        owner: UserId,
        parents: &[Id],
    ) -> Result<Vec<Id>, StoreError>;
    /// Of `ids`, the owner's BatchJobs.
    async fn owned_batch_jobs(&mut self, owner: UserId, ids: &[Id]) -> Result<Vec<Id>, StoreError>;
    async fn apps_for_create(
        &mut self,
        owner: UserId,
        ids: &[Id],
    ) -> Result<Vec<AppInfo>, StoreError>;
    /// States of the owner's jobs among `ids`.
    async fn job_states(
        &mut self,
        owner: UserId,
        ids: &[Id],
    ) -> Result<Vec<(Id, JobState)>, StoreError>;
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
    /// Ids returned by a portable one-parameter query (`$1` = `id`).
    async fn ids_where(&mut self, sql: &'static str, id: Id) -> Result<Vec<Id>, StoreError>;
    /// Runs a portable one-parameter statement (`$1` = `id`).
    async fn execute_with_id(&mut self, sql: &'static str, id: Id) -> Result<u64, StoreError>;
    /// Full Session rows, by id.
    async fn fetch_sessions(&mut self, ids: &[Id]) -> Result<Vec<Session>, StoreError>;
    /// Ids of the TransferItems and LogEvents of these jobs (they go with them).
    async fn dependent_ids(&mut self, job_ids: &[Id]) -> Result<(Vec<Id>, Vec<Id>), StoreError>;
    /// Deletes job rows (their TransferItems, LogEvents and parent links cascade).
    async fn delete_job_rows(&mut self, ids: &[Id]) -> Result<(), StoreError>;
    /// Appends the owner's changes to the event log, numbering them after the owner's
    /// last sequence number. Called last in a transaction: on PostgreSQL it holds the
    /// owner's counter row until commit, which keeps numbers in commit order. When the
    /// changes moved job counts, the owner's per-Site state counts follow as one more
    /// change, read after the counter row is taken: every earlier commit of the owner has
    /// then landed, so the counts are exactly those after this commit.
    async fn append_events(
        &mut self,
        owner: UserId,
        out: &Outbox,
        now: DateTime<Utc>,
    ) -> Result<Vec<LoggedEvent>, StoreError>;
    /// Full job rows, in the order of `ids`.
    async fn fetch_jobs(&mut self, ids: &[Id]) -> Result<Vec<Job>, StoreError>;
}

fn bad(msg: &str) -> StoreError {
    StoreError::Invalid(msg.to_owned())
}

/// `POST /jobs/`: validates against Apps, parents and transfer slots, then inserts jobs,
/// parents, TransferItems and creation LogEvents.
pub(crate) async fn create_jobs(
    tx: &mut dyn JobTx,
    owner: UserId,
    jobs: &[JobCreate],
    now: DateTime<Utc>,
    out: &mut Outbox,
) -> Result<Vec<Job>, StoreError> {
    if jobs.len() > MAX_ITEMS_PER_BULK_OP {
        return Err(bad(
            "Cannot bulk-create more than 5000 in a single API call.",
        ));
    }
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let app_ids = distinct(jobs.iter().map(|j| j.app_id));
    let apps: HashMap<Id, AppInfo> = tx
        .apps_for_create(owner, &app_ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    if apps.len() != app_ids.len() {
        return Err(StoreError::MissingReference(
            "Could not find one or more Apps. Double check app_id fields.".into(),
        ));
    }
    let parent_ids = distinct(jobs.iter().flat_map(|j| j.parent_ids.iter().copied()));
    let parent_states: HashMap<Id, JobState> = tx
        .job_states(owner, &parent_ids)
        .await?
        .into_iter()
        .collect();
    if parent_states.len() != parent_ids.len() {
        return Err(StoreError::MissingReference(
            "Could not find one or more Jobs set as parents. Double check parent_ids fields."
                .into(),
        ));
    }
    let mut workdirs = HashSet::with_capacity(jobs.len());
    if !jobs.iter().all(|j| workdirs.insert(j.workdir.as_str())) {
        return Err(bad(
            "Workdirs must be unique for each call to bulk-create Jobs.",
        ));
    }

    let mut transfers = Vec::new();
    let mut states = Vec::with_capacity(jobs.len());
    for (index, job) in jobs.iter().enumerate() {
        let app = &apps[&job.app_id];
        let mut has_stage_in = false;
        for (slot_name, spec) in &job.transfers {
            let slot = app.transfers.get(slot_name).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "App {} has no Transfer slot named {slot_name}",
                    app.name
                ))
            })?;
            if !app.transfer_locations.contains_key(&spec.location_alias) {
                return Err(StoreError::Invalid(format!(
                    "Site has no Transfer URL named {}",
                    spec.location_alias
                )));
            }
            let is_stage_in = slot["direction"] == "in";
            has_stage_in |= is_stage_in;
            transfers.push((
                index,
                NewTransfer {
                    job_id: 0,
                    is_stage_in,
                    local_path: slot["local_path"].as_str().unwrap_or_default().to_owned(),
                    remote_path: spec.path.clone(),
                    recursive: slot["recursive"].as_bool().unwrap_or(false),
                    location_alias: spec.location_alias.clone(),
                },
            ));
        }
        let waiting = job
            .parent_ids
            .iter()
            .any(|p| parent_states[p] != JobState::JobFinished);
        states.push(if waiting {
            JobState::AwaitingParents
        } else if has_stage_in {
            JobState::Ready
        } else {
            JobState::StagedIn
        });
    }

    let ids = tx.allocate_job_ids(jobs.len()).await?;
    let new_jobs: Vec<NewJob<'_>> = jobs
        .iter()
        .zip(&ids)
        .zip(&states)
        .map(|((spec, &id), &state)| NewJob {
            id,
            site_id: apps[&spec.app_id].site_id,
            state,
            spec,
        })
        .collect();
    let created = tx.insert_jobs(owner, &new_jobs, now).await?;
    let pairs: Vec<(Id, Id)> = jobs
        .iter()
        .zip(&ids)
        .flat_map(|(j, &id)| j.parent_ids.iter().map(move |&p| (id, p)))
        .collect();
    tx.insert_job_parents(&pairs).await?;
    let items: Vec<NewTransfer> = transfers
        .into_iter()
        .map(|(index, t)| NewTransfer {
            job_id: ids[index],
            ..t
        })
        .collect();
    let items = tx.insert_transfers(&items).await?;
    let events: Vec<NewLogEvent> = ids
        .iter()
        .zip(&states)
        .map(|(&job_id, &to_state)| NewLogEvent {
            job_id,
            timestamp: now,
            from_state: JobState::Created,
            to_state,
            data: Map::new(),
        })
        .collect();
    let events = tx.insert_log_events(owner, &events).await?;
    out.bulk_created(&created);
    out.bulk_created(&items);
    out.bulk_created(&events);
    Ok(created)
}

/// `PATCH /jobs/`, `PUT /jobs/{id}` and `PUT /jobs/`: resolves the targets, then applies
/// each patch on its own. Returns the number of targeted jobs.
pub(crate) async fn update_jobs(
    tx: &mut dyn JobTx,
    owner: UserId,
    update: JobUpdate<'_>,
    now: DateTime<Utc>,
    out: &mut Outbox,
) -> Result<u64, StoreError> {
    let not_found = || bad("Could not find some Job IDs");
    let targets: Vec<(JobHead, Cow<'_, JobPatch>)> = match update {
        JobUpdate::Patches(patches) => {
            if patches.len() > MAX_ITEMS_PER_BULK_OP {
                return Err(bad(
                    "Cannot bulk-update more than 5000 in a single API call.",
                ));
            }
            let ids: Vec<Id> = patches.iter().map(|p| p.id).collect();
            if distinct(ids.iter().copied()).len() != ids.len() {
                return Err(bad("Duplicate Job ID keys provided"));
            }
            let mut heads: HashMap<Id, JobHead> = tx
                .job_heads(owner, &ids)
                .await?
                .into_iter()
                .map(|h| (h.id, h))
                .collect();
            if heads.len() != ids.len() {
                return Err(not_found());
            }
            patches
                .iter()
                .filter_map(|p| heads.remove(&p.id).map(|h| (h, Cow::Borrowed(&p.patch))))
                .collect()
        }
        JobUpdate::One(id, patch) => {
            let head = tx
                .job_heads(owner, &[id])
                .await?
                .pop()
                .ok_or_else(not_found)?;
            vec![(head, Cow::Borrowed(patch))]
        }
        JobUpdate::Query(query, patch) => {
            let limit = i64::try_from(MAX_ITEMS_PER_BULK_OP).unwrap_or(i64::MAX) + 1;
            let ids = tx.matching_job_ids(owner, query, limit).await?;
            if ids.len() > MAX_ITEMS_PER_BULK_OP {
                return Err(bad(
                    "Cannot bulk-update more than 5000 in a single API call.",
                ));
            }
            let heads = tx.job_heads(owner, &ids).await?;
            heads
                .into_iter()
                .map(|h| (h, Cow::Borrowed(patch)))
                .collect()
        }
    };
    check_batch_jobs(tx, owner, targets.iter().map(|(_, p)| p.as_ref())).await?;
    let count = targets.len() as u64;
    apply(tx, owner, targets, now, out).await?;
    Ok(count)
}

/// Upstream wrote any `batch_job_id` and failed with a 500 on a missing one; we check
/// ownership and answer 400.
async fn check_batch_jobs<'p>(
    tx: &mut dyn JobTx,
    owner: UserId,
    patches: impl Iterator<Item = &'p JobPatch>,
) -> Result<(), StoreError> {
    let wanted = distinct(patches.filter_map(|p| p.batch_job_id.flatten()));
    if wanted.is_empty() {
        return Ok(());
    }
    let owned: HashSet<Id> = tx
        .owned_batch_jobs(owner, &wanted)
        .await?
        .into_iter()
        .collect();
    match wanted.iter().find(|id| !owned.contains(id)) {
        Some(missing) => Err(StoreError::Invalid(format!(
            "No batch_job with id {missing}"
        ))),
        None => Ok(()),
    }
}

/// Applies patches to locked jobs: fields as given, state through [`transition`], one
/// LogEvent per actual change, then releases the children of jobs that finished.
pub(crate) async fn apply(
    tx: &mut dyn JobTx,
    owner: UserId,
    targets: Vec<(JobHead, Cow<'_, JobPatch>)>,
    now: DateTime<Utc>,
    out: &mut Outbox,
) -> Result<(), StoreError> {
    let mut targets = targets;
    loop {
        let finished = apply_once(tx, owner, &targets, now, out).await?;
        if finished.is_empty() {
            return Ok(());
        }
        let children = tx.releasable_children(owner, &finished).await?;
        if children.is_empty() {
            return Ok(());
        }
        let release = JobPatch {
            state: Some(JobState::Ready),
            state_data: Some(one_message("All parents finished")),
            ..JobPatch::default()
        };
        targets = tx
            .job_heads(owner, &children)
            .await?
            .into_iter()
            .map(|h| (h, Cow::Owned(release.clone())))
            .collect();
        // A released child is READY or STAGED_IN, never finished: the loop ends next turn.
    }
}

/// One round of [`apply`]; returns the ids that reached JOB_FINISHED.
async fn apply_once(
    tx: &mut dyn JobTx,
    owner: UserId,
    targets: &[(JobHead, Cow<'_, JobPatch>)],
    now: DateTime<Utc>,
    out: &mut Outbox,
) -> Result<Vec<Id>, StoreError> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let need_transfers: Vec<Id> = targets
        .iter()
        .filter(|(h, p)| {
            matches!(p.state, Some(JobState::Ready | JobState::Postprocessed))
                && p.state != Some(h.state)
        })
        .map(|(h, _)| h.id)
        .collect();
    let summaries = summarize(tx.transfer_heads(&need_transfers).await?);

    let mut writes = Vec::with_capacity(targets.len());
    let mut events = Vec::new();
    let mut stage_outs = Vec::new();
    let mut finished = Vec::new();
    for (head, patch) in targets {
        let mut fields = patch.field_writes();
        let mut release_lock = false;
        if let Some(requested) = patch.state {
            let summary = summaries.get(&head.id).copied().unwrap_or(TransferSummary {
                stage_ins_done: true,
                stage_outs_done: true,
            });
            let data = patch.state_data.clone().unwrap_or_default();
            if let Some(t) = transition(head.state, requested, summary, data) {
                fields.insert("state".into(), t.to.as_str().into());
                release_lock = t.release_lock && head.session_id.is_some();
                if t.activate_stage_outs {
                    stage_outs.push(head.id);
                }
                if t.to == JobState::JobFinished {
                    finished.push(head.id);
                }
                events.push(NewLogEvent {
                    job_id: head.id,
                    timestamp: patch.state_timestamp.unwrap_or(now),
                    from_state: head.state,
                    to_state: t.to,
                    data: t.data,
                });
            }
        }
        writes.push(JobWrite {
            id: head.id,
            fields,
            release_lock,
        });
    }
    let written = tx.write_jobs(&writes, now).await?;
    let events = tx.insert_log_events(owner, &events).await?;
    let activated = tx.activate_stage_outs(&stage_outs).await?;
    out.bulk_updated(&written);
    out.bulk_updated(&activated);
    out.bulk_created(&events);
    Ok(finished)
}

/// After TransferItem updates: READY jobs whose stage-ins are all done become STAGED_IN,
/// POSTPROCESSED jobs whose stage-outs are all done become JOB_FINISHED (and release
/// their children, which upstream forgot).
pub(crate) async fn advance_after_transfers(
    tx: &mut dyn JobTx,
    owner: UserId,
    job_ids: &[Id],
    now: DateTime<Utc>,
    out: &mut Outbox,
) -> Result<(), StoreError> {
    let heads: Vec<JobHead> = tx
        .job_heads(owner, job_ids)
        .await?
        .into_iter()
        .filter(|h| matches!(h.state, JobState::Ready | JobState::Postprocessed))
        .collect();
    if heads.is_empty() {
        return Ok(());
    }
    let ids: Vec<Id> = heads.iter().map(|h| h.id).collect();
    let summaries = summarize(tx.transfer_heads(&ids).await?);
    let mut writes = Vec::new();
    let mut events = Vec::new();
    let mut finished = Vec::new();
    for head in heads {
        let summary = summaries.get(&head.id).copied().unwrap_or_default();
        let to = match head.state {
            JobState::Ready if summary.stage_ins_done => JobState::StagedIn,
            JobState::Postprocessed if summary.stage_outs_done => JobState::JobFinished,
            _ => continue,
        };
        if to == JobState::JobFinished {
            finished.push(head.id);
        }
        let mut fields = Map::new();
        fields.insert("state".into(), to.as_str().into());
        writes.push(JobWrite {
            id: head.id,
            fields,
            release_lock: false,
        });
        events.push(NewLogEvent {
            job_id: head.id,
            timestamp: now,
            from_state: head.state,
            to_state: to,
            data: Map::new(),
        });
    }
    let written = tx.write_jobs(&writes, now).await?;
    let events = tx.insert_log_events(owner, &events).await?;
    out.bulk_updated(&written);
    out.bulk_created(&events);
    if !finished.is_empty() {
        // Release children through the same machinery as the update path.
        let children = tx.releasable_children(owner, &finished).await?;
        let release = JobPatch {
            state: Some(JobState::Ready),
            state_data: Some(one_message("All parents finished")),
            ..JobPatch::default()
        };
        let targets = tx
            .job_heads(owner, &children)
            .await?
            .into_iter()
            .map(|h| (h, Cow::Owned(release.clone())))
            .collect();
        apply(tx, owner, targets, now, out).await?;
    }
    Ok(())
}

/// Deletes jobs with everything hanging off them and records every deletion, so a
/// client hears of each removed Job, TransferItem and LogEvent.
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
pub(crate) async fn delete_site_cascade(
    tx: &mut dyn JobTx,
    site_id: Id,
    out: &mut Outbox,
) -> Result<(), StoreError> {
    let jobs = tx
        .ids_where(
            "SELECT id FROM jobs WHERE site_id = $1 ORDER BY id",
            site_id,
        )
        .await?;
    delete_jobs_by_ids(tx, &jobs, out).await?;
    let sessions = tx
        .ids_where(
            "SELECT id FROM sessions WHERE site_id = $1 ORDER BY id",
            site_id,
        )
        .await?;
    let batch_jobs = tx
        .ids_where(
            "SELECT id FROM batch_jobs WHERE site_id = $1 ORDER BY id",
            site_id,
        )
        .await?;
    let apps = tx
        .ids_where(
            "SELECT id FROM apps WHERE site_id = $1 ORDER BY id",
            site_id,
        )
        .await?;
    out.deleted::<Session>(&sessions);
    out.deleted::<BatchJob>(&batch_jobs);
    out.deleted::<App>(&apps);
    out.deleted::<Site>(&[site_id]);
    Ok(())
}

/// Deletes an App's jobs (recorded) and records the App's deletion; the caller deletes
/// the row.
pub(crate) async fn delete_app_cascade(
    tx: &mut dyn JobTx,
    app_id: Id,
    out: &mut Outbox,
) -> Result<(), StoreError> {
    let jobs = tx
        .ids_where("SELECT id FROM jobs WHERE app_id = $1 ORDER BY id", app_id)
        .await?;
    delete_jobs_by_ids(tx, &jobs, out).await?;
    out.deleted::<App>(&[app_id]);
    Ok(())
}

/// Deletes a BatchJob; the jobs and sessions that pointed at it lose the link, and the
/// client hears of each of them.
pub(crate) async fn delete_batch_job(
    tx: &mut dyn JobTx,
    id: Id,
    out: &mut Outbox,
) -> Result<(), StoreError> {
    let jobs = tx
        .ids_where(
            "SELECT id FROM jobs WHERE batch_job_id = $1 ORDER BY id",
            id,
        )
        .await?;
    let sessions = tx
        .ids_where(
            "SELECT id FROM sessions WHERE batch_job_id = $1 ORDER BY id",
            id,
        )
        .await?;
    tx.execute_with_id("DELETE FROM batch_jobs WHERE id = $1", id)
        .await?;
    out.bulk_updated(&tx.fetch_jobs(&jobs).await?);
    for session in tx.fetch_sessions(&sessions).await? {
        out.updated(&session);
    }
    out.deleted::<BatchJob>(&[id]);
    Ok(())
}

/// Ends one of the owner's sessions: its RUNNING jobs time out through the state machine,
/// the session row goes, and the jobs it still held are unlocked (all recorded).
pub(crate) async fn end_session(
    tx: &mut dyn JobTx,
    owner: UserId,
    session_id: Id,
    now: DateTime<Utc>,
    out: &mut Outbox,
) -> Result<(), StoreError> {
    let running = tx
        .ids_where(
            "SELECT id FROM jobs WHERE session_id = $1 AND state = 'RUNNING' ORDER BY id",
            session_id,
        )
        .await?;
    time_out_running(tx, owner, &running, now, out).await?;
    let held = tx
        .ids_where(
            "SELECT id FROM jobs WHERE session_id = $1 ORDER BY id",
            session_id,
        )
        .await?;
    tx.execute_with_id("DELETE FROM sessions WHERE id = $1", session_id)
        .await?;
    out.bulk_updated(&tx.fetch_jobs(&held).await?);
    out.deleted::<Session>(&[session_id]);
    Ok(())
}

/// `{"message": msg}`.
pub(crate) fn one_message(msg: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("message".into(), msg.into());
    m
}

fn summarize(transfers: Vec<TransferHead>) -> HashMap<Id, TransferSummary> {
    let mut out: HashMap<Id, TransferSummary> = HashMap::new();
    for t in transfers {
        let s = out.entry(t.job_id).or_insert(TransferSummary {
            stage_ins_done: true,
            stage_outs_done: true,
        });
        if t.is_stage_in {
            s.stage_ins_done &= t.done;
        } else {
            s.stage_outs_done &= t.done;
        }
    }
    out
}

/// Distinct values in first-seen order.
pub(crate) fn distinct(values: impl Iterator<Item = Id>) -> Vec<Id> {
    let mut seen = HashSet::new();
    values.filter(|v| seen.insert(*v)).collect()
}

/// How a patchable job column is typed, so each backend can cast JSON values into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnKind {
    Text,
    Json,
    Int,
    BigInt,
    Float,
    Bool,
}

/// Every job column [`JobWrite::fields`] may set.
pub(crate) const PATCH_COLUMNS: &[(&str, ColumnKind)] = &[
    ("workdir", ColumnKind::Text),
    ("tags", ColumnKind::Json),
    ("serialized_parameters", ColumnKind::Text),
    ("data", ColumnKind::Json),
    ("return_code", ColumnKind::Int),
    ("num_nodes", ColumnKind::Int),
    ("ranks_per_node", ColumnKind::Int),
    ("threads_per_rank", ColumnKind::Int),
    ("threads_per_core", ColumnKind::Int),
    ("launch_params", ColumnKind::Json),
    ("gpus_per_rank", ColumnKind::Float),
    ("node_packing_count", ColumnKind::Int),
    ("wall_time_min", ColumnKind::Int),
    ("batch_job_id", ColumnKind::BigInt),
    ("pending_file_cleanup", ColumnKind::Bool),
    ("serialized_return_value", ColumnKind::Text),
    ("serialized_exception", ColumnKind::Text),
    ("state", ColumnKind::Text),
];

/// The JSON document a backend's `write_jobs` statement consumes: one object per job
/// with `__id`, `__release` and the fields to set.
pub(crate) fn writes_document(writes: &[JobWrite]) -> Value {
    Value::Array(
        writes
            .iter()
            .map(|w| {
                let mut obj = w.fields.clone();
                obj.insert("__id".into(), w.id.into());
                obj.insert("__release".into(), w.release_lock.into());
                Value::Object(obj)
            })
            .collect(),
    )
}

/// The JSON document for `insert_jobs`: one object per job with every column.
pub(crate) fn jobs_document(owner: UserId, jobs: &[NewJob<'_>], now_column: Value) -> Value {
    Value::Array(
        jobs.iter()
            .map(|j| {
                let s = j.spec;
                serde_json::json!({
                    "id": j.id, "owner_id": owner, "site_id": j.site_id, "app_id": s.app_id,
                    "workdir": s.workdir, "tags": s.tags,
                    "serialized_parameters": s.serialized_parameters,
                    "state": j.state.as_str(), "last_update": now_column, "data": s.data,
                    "return_code": s.return_code, "parent_ids": s.parent_ids,
                    "num_nodes": s.num_nodes, "ranks_per_node": s.ranks_per_node,
                    "threads_per_rank": s.threads_per_rank, "threads_per_core": s.threads_per_core,
                    "launch_params": s.launch_params, "gpus_per_rank": s.gpus_per_rank,
                    "node_packing_count": s.node_packing_count, "wall_time_min": s.wall_time_min,
                })
            })
            .collect(),
    )
}

/// The row a backend wrote for `j` at `now`: every column of a new job is known before
/// the insert (the columns it does not name take their schema defaults), so nothing is
/// read back.
pub(crate) fn new_job(j: &NewJob<'_>, now: DateTime<Utc>) -> Job {
    let s = j.spec;
    Job {
        id: j.id,
        workdir: s.workdir.clone(),
        tags: s.tags.clone(),
        app_id: s.app_id,
        session_id: None,
        serialized_parameters: s.serialized_parameters.clone(),
        serialized_return_value: String::new(),
        serialized_exception: String::new(),
        batch_job_id: None,
        state: j.state,
        last_update: now,
        data: s.data.clone(),
        return_code: s.return_code,
        pending_file_cleanup: true,
        parent_ids: s.parent_ids.clone(),
        num_nodes: s.num_nodes,
        ranks_per_node: s.ranks_per_node,
        threads_per_rank: s.threads_per_rank,
        threads_per_core: s.threads_per_core,
        gpus_per_rank: s.gpus_per_rank,
        node_packing_count: s.node_packing_count,
        wall_time_min: s.wall_time_min,
        launch_params: s.launch_params.clone(),
    }
}

/// The LogEvents an insert wrote: `rows` are what it returned, `(id, job_id, stored
/// timestamp)` in any order; ids follow the insert's order, so within one job the
/// lowest id is its first event. Everything else is what was sent.
pub(crate) fn logged_events<T>(
    events: &[NewLogEvent],
    mut rows: Vec<(Id, Id, T)>,
    time: impl Fn(T) -> DateTime<Utc>,
) -> Vec<LogEvent> {
    rows.sort_unstable_by_key(|r| r.0);
    let mut by_job: HashMap<Id, std::collections::VecDeque<(Id, DateTime<Utc>)>> =
        HashMap::with_capacity(rows.len());
    for (id, job_id, t) in rows {
        by_job.entry(job_id).or_default().push_back((id, time(t)));
    }
    events
        .iter()
        .filter_map(|e| {
            let (id, timestamp) = by_job.get_mut(&e.job_id)?.pop_front()?;
            Some(LogEvent {
                id,
                job_id: e.job_id,
                timestamp,
                from_state: e.from_state.as_str().to_owned(),
                to_state: e.to_state.as_str().to_owned(),
                data: e.data.clone(),
            })
        })
        .collect()
}

/// The JSON document for `insert_transfers`.
pub(crate) fn transfers_document(items: &[NewTransfer]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|t| {
                serde_json::json!({
                    "job_id": t.job_id,
                    "direction": if t.is_stage_in { "in" } else { "out" },
                    "local_path": t.local_path, "remote_path": t.remote_path,
                    "recursive": t.recursive, "location_alias": t.location_alias,
                    "state": if t.is_stage_in { "pending" } else { "awaiting_job" },
                })
            })
            .collect(),
    )
}

/// The JSON document for `insert_log_events`; `timestamp` renders a backend's time value.
pub(crate) fn events_document(
    events: &[NewLogEvent],
    timestamp: impl Fn(&DateTime<Utc>) -> Value,
) -> Value {
    Value::Array(
        events
            .iter()
            .map(|e| {
                serde_json::json!({
                    "job_id": e.job_id, "timestamp": timestamp(&e.timestamp),
                    "from_state": e.from_state.as_str(), "to_state": e.to_state.as_str(),
                    "data": e.data,
                })
            })
            .collect(),
    )
}

/// The `ORDER BY` list of a job page: the requested key, then ascending id, as the spec
/// says (balsam-api.md §1.5, checked by the conformance suite). Each key is an index's
/// order (`jobs_owner_last_update_idx (owner_id, last_update, id)`, `jobs_owner_state_idx
/// (owner_id, state, id)`, `jobs_owner_id_idx (owner_id, id)`), read forwards or
/// backwards; a descending key sorts only within ties (PostgreSQL's incremental sort:
/// one bulk update's jobs share a `last_update`), never the owner's whole job set.
pub(crate) fn job_order_by(ordering: Option<(JobOrdering, bool)>) -> &'static str {
    match ordering {
        None | Some((JobOrdering::Id, false)) => "jobs.id ASC",
        Some((JobOrdering::Id, true)) => "jobs.id DESC",
        Some((JobOrdering::LastUpdate, false)) => "jobs.last_update ASC, jobs.id ASC",
        Some((JobOrdering::LastUpdate, true)) => "jobs.last_update DESC, jobs.id ASC",
        Some((JobOrdering::State, false)) => "jobs.state ASC, jobs.id ASC",
        Some((JobOrdering::State, true)) => "jobs.state DESC, jobs.id ASC",
        Some((JobOrdering::Workdir, false)) => "jobs.workdir ASC, jobs.id ASC",
        Some((JobOrdering::Workdir, true)) => "jobs.workdir DESC, jobs.id ASC",
    }
}

/// Orders fetched rows like `ids`.
pub(crate) fn in_order_of(ids: &[Id], rows: Vec<Job>) -> Vec<Job> {
    let mut by_id: HashMap<Id, Job> = rows.into_iter().map(|j| (j.id, j)).collect();
    ids.iter().filter_map(|id| by_id.remove(id)).collect()
}

/// The stored state a BatchJob patch leads to: a BatchJob in `pending_deletion` only
/// moves on to `finished`; any other requested state is ignored (upstream rule).
pub(crate) fn batch_job_state_after(stored: &str, requested: Option<&str>) -> Option<String> {
    match requested {
        Some(r) if stored != "pending_deletion" || r == "finished" => Some(r.to_owned()),
        _ => None,
    }
}

/// The JSON document for a BatchJob bulk update: one object per row, keys present only
/// when written; `stored` gives each row's current state.
pub(crate) fn batch_job_writes(
    patches: &[(Id, balsam_types::BatchJobPatch)],
    stored: &HashMap<Id, String>,
    timestamp: impl Fn(&DateTime<Utc>) -> Value,
) -> Value {
    Value::Array(
        patches
            .iter()
            .map(|(id, p)| {
                let mut obj = Map::new();
                obj.insert("__id".into(), (*id).into());
                if let Some(s) = p.scheduler_id {
                    obj.insert("scheduler_id".into(), s.map_or(Value::Null, Value::from));
                }
                let current = stored.get(id).map(String::as_str).unwrap_or_default();
                if let Some(state) = batch_job_state_after(current, p.state.as_deref()) {
                    obj.insert("state".into(), state.into());
                }
                if let Some(info) = &p.status_info {
                    obj.insert("status_info".into(), Value::Object(info.clone()));
                }
                if let Some(t) = p.start_time {
                    obj.insert(
                        "start_time".into(),
                        t.as_ref().map_or(Value::Null, &timestamp),
                    );
                }
                if let Some(t) = p.end_time {
                    obj.insert(
                        "end_time".into(),
                        t.as_ref().map_or(Value::Null, &timestamp),
                    );
                }
                Value::Object(obj)
            })
            .collect(),
    )
}

/// Acquire order, unqualified (it orders a branch over `jobs` and the merged
/// candidates): by id without node packing, else upstream's packing orders. By id and the
/// default packing order are the orders of the acquire indexes (migration 0005);
/// long-large-first, rarely configured, sorts its candidates.
pub(crate) fn acquire_order(spec: &SessionAcquire) -> &'static str {
    match (spec.max_aggregate_nodes.is_some(), spec.sort_by.as_deref()) {
        (false, _) => "id",
        (true, Some("long_large_first")) => {
            "wall_time_min DESC, num_nodes DESC, node_packing_count DESC, id"
        }
        (true, _) => "num_nodes ASC, node_packing_count DESC, wall_time_min DESC, id",
    }
}

/// The requested states, each once and in a fixed order (one acquire branch each).
pub(crate) fn acquire_states(spec: &SessionAcquire) -> Vec<JobState> {
    let mut states = spec.states.clone();
    states.sort_by_key(|s| s.as_str());
    states.dedup();
    states
}

/// The acquire's `filter_tags` as `key:value` pairs (a non-string value matches "").
pub(crate) fn acquire_tags(spec: &SessionAcquire) -> Vec<(String, String)> {
    spec.filter_tags
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// Which candidates an acquire takes: all of them without `max_aggregate_nodes`, else the
/// longest prefix whose summed footprint (`num_nodes / node_packing_count`) fits.
pub(crate) fn acquire_prefix(
    candidates: &[(Id, i64, i64)],
    max_aggregate_nodes: Option<f64>,
) -> Vec<Id> {
    let Some(limit) = max_aggregate_nodes else {
        return candidates.iter().map(|c| c.0).collect();
    };
    let mut total = 0.0;
    let mut out = Vec::new();
    for &(id, num_nodes, packing) in candidates {
        total += num_nodes as f64 / packing.max(1) as f64;
        if total > limit {
            break;
        }
        out.push(id);
    }
    out
}

/// The message upstream records when a session ends with jobs still RUNNING.
pub(crate) const SESSION_EXPIRED: &str = "Session expired: job was stuck in RUNNING state";

/// Times out the RUNNING jobs of ending sessions (one owner's), through the state machine.
pub(crate) async fn time_out_running(
    tx: &mut dyn JobTx,
    owner: UserId,
    job_ids: &[Id],
    now: DateTime<Utc>,
    out: &mut Outbox,
) -> Result<(), StoreError> {
    if job_ids.is_empty() {
        return Ok(());
    }
    let patch = JobPatch {
        state: Some(JobState::RunTimeout),
        state_data: Some(one_message(SESSION_EXPIRED)),
        ..JobPatch::default()
    };
    let targets = tx
        .job_heads(owner, job_ids)
        .await?
        .into_iter()
        .map(|h| (h, Cow::Borrowed(&patch)))
        .collect();
    apply(tx, owner, targets, now, out).await
}

/// Groups `(site, state, count)` rows, ordered by site, into one entry per Site.
pub(crate) fn group_counts(rows: Vec<(i64, String, i64)>) -> Vec<balsam_types::SiteStateCounts> {
    let mut out: Vec<balsam_types::SiteStateCounts> = Vec::new();
    for (site_id, state, count) in rows {
        match out.last_mut() {
            Some(last) if last.site_id == site_id => {
                last.counts.insert(state, count);
            }
            _ => out.push(balsam_types::SiteStateCounts {
                site_id,
                counts: std::collections::BTreeMap::from([(state, count)]),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acquire_takes_the_fitting_prefix_only() {
        // 8 small jobs (1 node, packing 8) then 4 large ones (2 nodes), limit 5 nodes:
        // 8 × 0.125 + 2 × 2 = 5 → ten jobs, as the spec's example.
        let mut c: Vec<(Id, i64, i64)> = (1..=8).map(|i| (i, 1, 8)).collect();
        c.extend((9..=12).map(|i| (i, 2, 1)));
        assert_eq!(acquire_prefix(&c, Some(5.0)).len(), 10);
        assert_eq!(acquire_prefix(&c, None).len(), 12);
        assert!(acquire_prefix(&c, Some(0.0)).is_empty());
    }

    #[test]
    fn pending_deletion_only_moves_to_finished() {
        assert_eq!(
            batch_job_state_after("pending_deletion", Some("running")),
            None
        );
        assert_eq!(
            batch_job_state_after("pending_deletion", Some("finished")).as_deref(),
            Some("finished")
        );
        assert_eq!(
            batch_job_state_after("queued", Some("running")).as_deref(),
            Some("running")
        );
        assert_eq!(batch_job_state_after("queued", None), None);
    }
}
