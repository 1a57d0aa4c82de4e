//! The update state machine: `PATCH`/`PUT` of jobs, transfer-driven advancement, the
//! release of children and session time-outs, with their side effects (LogEvents, lock
//! release, stage-out activation).
//!
//! Repetition note: the use cases share their signature (transaction, owner, ids, clock,
//! outbox) on purpose; it is the lifecycle's calling convention.

use super::{bad, distinct, one_message, JobHead, JobTx, JobWrite, NewLogEvent, TransferHead};
use crate::jobs::JobUpdate;
use crate::StoreError;
use balsam_types::job::MAX_ITEMS_PER_BULK_OP;
use balsam_types::job_state::{transition, TransferSummary};
use balsam_types::{Id, JobPatch, JobState, Outbox, UserId};
use chrono::{DateTime, Utc};
use serde_json::Map;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// `PATCH /jobs/`, `PUT /jobs/{id}` and `PUT /jobs/`: resolves the targets, then applies
/// each patch on its own. Returns the number of targeted jobs.
#[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
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
#[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
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
        if fields.contains_key("num_nodes") || fields.contains_key("node_packing_count") {
            // A job's node weight moves the per-Site `running_nodes` of the pushed counts.
            out.mark_state_counts_changed();
        }
        writes.push(JobWrite {
            id: head.id,
            fields,
            release_lock,
        });
    }
    let written = write_jobs_counting_tags(tx, &writes, now).await?;
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
#[tracing::instrument(level = "debug", skip_all, fields(owner = owner, n = job_ids.len()))]
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
    let written = write_jobs_counting_tags(tx, &writes, now).await?;
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

/// The message upstream records when a session ends with jobs still RUNNING.
pub(crate) const SESSION_EXPIRED: &str = "Session expired: job was stuck in RUNNING state";

/// Times out the RUNNING jobs of ending sessions (one owner's), through the state machine.
#[tracing::instrument(level = "debug", skip_all, fields(owner = owner, n = job_ids.len()))]
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

/// [`JobTx::write_jobs`], keeping the per-tag counts: the jobs whose patch has `tags` have
/// their old pairs taken out before the UPDATE and their new pairs added after (the rows
/// are locked), so a write that leaves tags alone costs nothing there.
async fn write_jobs_counting_tags(
    tx: &mut dyn JobTx,
    writes: &[JobWrite],
    now: DateTime<Utc>,
) -> Result<Vec<balsam_types::Job>, StoreError> {
    let retagged: Vec<Id> = writes
        .iter()
        .filter(|w| w.fields.contains_key("tags"))
        .map(|w| w.id)
        .collect();
    tx.shift_tag_counts(&retagged, -1).await?;
    let written = tx.write_jobs(writes, now).await?;
    tx.shift_tag_counts(&retagged, 1).await?;
    Ok(written)
}
