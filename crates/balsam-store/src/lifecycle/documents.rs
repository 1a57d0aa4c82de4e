//! The JSON documents the backends expand in one statement (`jsonb_array_elements` on
//! PostgreSQL, `json_each` on SQLite): job writes, new jobs, TransferItems, LogEvents and
//! BatchJob patches.

use super::{JobWrite, NewJob, NewLogEvent, NewTransfer};
use balsam_types::batch_job::batch_job_state_after;
use balsam_types::{Id, UserId};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::collections::HashMap;

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
