//! `POST /jobs/`: validation against Apps, parents and transfer slots, initial states,
//! and the rows a create writes (built here, not read back).
//!
//! Repetition note: the use cases share their signature (transaction, owner, ids, clock,
//! outbox) on purpose; it is the lifecycle's calling convention.

use super::{bad, distinct, AppInfo, JobTx, NewJob, NewLogEvent, NewTransfer};
use crate::StoreError;
use balsam_types::job::MAX_ITEMS_PER_BULK_OP;
use balsam_types::{Id, Job, JobCreate, JobState, LogEvent, Outbox, UserId};
use chrono::{DateTime, Utc};
use serde_json::Map;
use std::collections::{HashMap, HashSet};

/// `POST /jobs/`: validates against Apps, parents and transfer slots, then inserts jobs,
/// parents, TransferItems and creation LogEvents.
#[tracing::instrument(level = "debug", skip_all, fields(owner = owner, n = jobs.len()))]
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
