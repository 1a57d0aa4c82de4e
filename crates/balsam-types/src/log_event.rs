//! LogEvents: the history of job state changes, written by the server only.
//!
//! Repetition note: every body is validated with the same steps on purpose (`Cx` fields,
//! required or optional, coerced as pydantic v1 does); what repeats is that pattern with
//! this type's fields.

use crate::{time, Id};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A LogEvent as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LogEvent {
    pub id: Id,
    pub job_id: Id,
    /// Naive UTC, exact to the microsecond.
    #[serde(serialize_with = "time::naive")]
    #[schema(value_type = String)]
    pub timestamp: DateTime<Utc>,
    pub from_state: String,
    pub to_state: String,
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
}

/// Filters of `GET /events/`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventQuery {
    pub ids: Vec<Id>,
    pub job_ids: Vec<Id>,
    pub batch_job_id: Option<Id>,
    pub scheduler_id: Option<i64>,
    pub tags: Vec<(String, String)>,
    pub data: Vec<(String, String)>,
    pub timestamp_before: Option<DateTime<Utc>>,
    pub timestamp_after: Option<DateTime<Utc>>,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    /// Newest first unless `false` (`ordering=timestamp`).
    pub newest_first: bool,
}

/// Job counts per state at one Site (`GET /jobs/state-counts`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SiteStateCounts {
    pub site_id: Id,
    /// `{state: count}`; states without jobs are left out.
    #[schema(value_type = std::collections::HashMap<String, i64>)]
    pub counts: std::collections::BTreeMap<String, i64>,
    /// Nodes busy at this Site: the sum over its RUNNING jobs of `num_nodes /
    /// max(1, node_packing_count)` (the utilisation chart's weight), kept exact with the
    /// counts (0 when nothing runs).
    pub running_nodes: f64,
}
