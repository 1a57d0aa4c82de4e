//! Sessions: a running job consumer (launcher or processing service) holding job locks.
//!
//! Repetition note: every body is validated with the same steps on purpose (`Cx` fields,
//! required or optional, coerced as pydantic v1 does); what repeats is that pattern with
//! this type's fields.

use crate::job::job_state;
use crate::job_state::JobState;
use crate::limits::{MAX_ACQUIRE_APP_IDS, MAX_FILTER_TAGS, MAX_TAGS_BYTES};
use crate::validate::{self as v, Cx, ValidationErrors};
use crate::{time, Id};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Upstream's `MAX_JOBS_PER_SESSION_ACQUIRE`.
pub const MAX_JOBS_PER_ACQUIRE: i64 = 2048;

/// A Session as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Session {
    pub id: Id,
    pub site_id: Id,
    pub batch_job_id: Option<Id>,
    /// Naive UTC.
    #[serde(serialize_with = "time::naive")]
    #[schema(value_type = String)]
    pub heartbeat: DateTime<Utc>,
}

/// The body of `POST /sessions/`.
#[derive(Debug, Clone, PartialEq, ToSchema)]
pub struct SessionCreate {
    pub site_id: Id,
    pub batch_job_id: Option<Id>,
}

/// The body of `POST /sessions/{id}` (acquire).
#[derive(Debug, Clone, PartialEq, ToSchema)]
pub struct SessionAcquire {
    pub max_num_jobs: i64,
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub filter_tags: Map<String, Value>,
    pub states: Vec<JobState>,
    pub app_ids: Vec<Id>,
    /// Truncated to an int; 0 disables the filter (upstream quirk, kept).
    pub max_wall_time_min: Option<i64>,
    pub max_nodes_per_job: Option<i64>,
    /// Present: the MPI launcher's node-packing path.
    pub max_aggregate_nodes: Option<f64>,
    pub serial_only: bool,
    pub sort_by: Option<String>,
}

impl SessionCreate {
    pub fn from_json(body: &Value) -> Result<Self, ValidationErrors> {
        let mut cx = Cx::new("body");
        let s = v::object(&mut cx, body).and_then(|obj| {
            let site_id = cx.required(obj, "site_id", v::integer);
            let batch_job_id = cx.nullable(obj, "batch_job_id", v::integer);
            Some(SessionCreate {
                site_id: site_id?,
                batch_job_id: batch_job_id?,
            })
        });
        cx.finish(s)
    }
}

impl SessionAcquire {
    pub fn from_json(body: &Value) -> Result<Self, ValidationErrors> {
        let mut cx = Cx::new("body");
        let s = v::object(&mut cx, body).and_then(|obj| {
            let max_num_jobs = cx.required(obj, "max_num_jobs", |cx, x| {
                let n = v::integer(cx, x)?;
                if !(1..=MAX_JOBS_PER_ACQUIRE).contains(&n) {
                    cx.error(
                        format!("max_num_jobs must be between 1 and {MAX_JOBS_PER_ACQUIRE}"),
                        "value_error",
                    );
                    return None;
                }
                Some(n)
            });
            let filter_tags = cx.required(obj, "filter_tags", |cx, x| {
                let tags = v::sized(MAX_TAGS_BYTES, v::string_map)(cx, x)?;
                v::max_items(cx, tags.len(), MAX_FILTER_TAGS).then_some(tags)
            });
            let states = cx.optional(
                obj,
                "states",
                vec![JobState::Preprocessed, JobState::RestartReady],
                |cx, x| v::list_of(cx, x, job_state),
            );
            let app_ids = cx.optional(obj, "app_ids", Vec::new(), |cx, x| {
                let n = v::array(cx, x)?.len();
                if !v::max_items(cx, n, MAX_ACQUIRE_APP_IDS) {
                    return None;
                }
                v::list_of(cx, x, v::integer)
            });
            let max_wall_time_min = cx.nullable(obj, "max_wall_time_min", v::integer);
            let max_nodes_per_job = cx.nullable(obj, "max_nodes_per_job", v::integer);
            let max_aggregate_nodes = cx.nullable(obj, "max_aggregate_nodes", v::float);
            let serial_only = cx.optional(obj, "serial_only", false, v::boolean);
            let sort_by = cx.nullable(obj, "sort_by", v::string);
            Some(SessionAcquire {
                max_num_jobs: max_num_jobs?,
                filter_tags: filter_tags?,
                states: states?,
                app_ids: app_ids?,
                max_wall_time_min: max_wall_time_min?,
                max_nodes_per_job: max_nodes_per_job?,
                max_aggregate_nodes: max_aggregate_nodes?,
                serial_only: serial_only?,
                sort_by: sort_by?,
            })
        });
        cx.finish(s)
    }
}

/// Which candidates an acquire takes: all of them without `max_aggregate_nodes`, else the
/// longest prefix whose summed footprint (`num_nodes / node_packing_count`) fits.
pub fn acquire_prefix(candidates: &[(Id, i64, i64)], max_aggregate_nodes: Option<f64>) -> Vec<Id> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn acquire_takes_the_launchers_body_and_truncates_wall_time() {
        let a = SessionAcquire::from_json(&json!({"max_num_jobs": 990, "max_wall_time_min": 5.7,
            "max_nodes_per_job": 1, "max_aggregate_nodes": 1.0, "serial_only": false,
            "sort_by": null, "filter_tags": {}, "states": ["RESTART_READY", "PREPROCESSED"],
            "app_ids": []}))
        .unwrap();
        assert_eq!(a.max_wall_time_min, Some(5));
        assert_eq!(a.max_aggregate_nodes, Some(1.0));
    }

    #[test]
    fn acquire_bounds_and_required_filter_tags() {
        let err = SessionAcquire::from_json(&json!({"max_num_jobs": 0})).unwrap_err();
        assert_eq!(err.0[0].msg, "max_num_jobs must be between 1 and 2048");
        assert_eq!(err.0[1].loc, vec!["body".into(), "filter_tags".into()]);
    }

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
}
