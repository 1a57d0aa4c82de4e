//! BatchJobs: scheduler allocations (a queued or running pilot job) at a Site.
//!
//! Repetition note: every body is validated with the same steps on purpose (`Cx` fields,
//! required or optional, coerced as pydantic v1 does); what repeats is that pattern with
//! this type's fields.

use crate::limits::{MAX_PARAMS_BYTES, MAX_TAGS_BYTES};
use crate::site::BATCH_JOB_STATES;
use crate::validate::{self as v, Cx, ValidationErrors};
use crate::{time, Id};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

pub const JOB_MODES: &[&str] = &["serial", "mpi"];

/// A BatchJob as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BatchJob {
    pub id: Id,
    pub site_id: Id,
    pub scheduler_id: Option<i64>,
    pub project: String,
    pub queue: String,
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub optional_params: Map<String, Value>,
    pub num_nodes: i64,
    pub wall_time_min: i64,
    /// `serial` or `mpi`.
    pub job_mode: String,
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub filter_tags: Map<String, Value>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub partitions: Option<Value>,
    /// pending_submission, queued, running, finished, submit_failed or pending_deletion.
    pub state: String,
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub status_info: Map<String, Value>,
    #[serde(serialize_with = "time::naive_opt")]
    #[schema(value_type = Option<String>)]
    pub start_time: Option<DateTime<Utc>>,
    #[serde(serialize_with = "time::naive_opt")]
    #[schema(value_type = Option<String>)]
    pub end_time: Option<DateTime<Utc>>,
}

/// The body of `POST /batch-jobs/`.
#[derive(Debug, Clone, PartialEq, ToSchema)]
pub struct BatchJobCreate {
    pub site_id: Id,
    pub project: String,
    pub queue: String,
    pub num_nodes: i64,
    pub wall_time_min: i64,
    pub job_mode: String,
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub optional_params: Map<String, Value>,
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub filter_tags: Map<String, Value>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub partitions: Option<Value>,
}

/// A partial BatchJob update (`PUT`, or one `PATCH` item without its id).
#[derive(Debug, Clone, Default, PartialEq, ToSchema)]
pub struct BatchJobPatch {
    pub scheduler_id: Option<Option<i64>>,
    pub state: Option<String>,
    #[schema(value_type = Option<std::collections::HashMap<String, String>>)]
    pub status_info: Option<Map<String, Value>>,
    #[schema(value_type = Option<String>)]
    pub start_time: Option<Option<DateTime<Utc>>>,
    #[schema(value_type = Option<String>)]
    pub end_time: Option<Option<DateTime<Utc>>>,
}

/// Filters of `GET /batch-jobs/`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchJobQuery {
    pub ids: Vec<Id>,
    pub site_ids: Vec<Id>,
    /// Not validated: an unknown state matches nothing.
    pub states: Vec<String>,
    pub scheduler_id: Option<i64>,
    pub queue: Option<String>,
    pub start_time_before: Option<DateTime<Utc>>,
    pub start_time_after: Option<DateTime<Utc>>,
    pub end_time_before: Option<DateTime<Utc>>,
    pub end_time_after: Option<DateTime<Utc>>,
    pub filter_tags: Vec<(String, String)>,
    /// `Some(descending)` orders by start_time (NULLs last ascending, first descending).
    pub order_by_start_time: Option<bool>,
}

fn partitions(cx: &mut Cx, x: &Value) -> Option<Value> {
    let parts = v::list_of(cx, x, |cx, p| {
        let obj = v::object(cx, p)?;
        let mode = cx.required(obj, "job_mode", |cx, x| v::enum_str(cx, x, JOB_MODES));
        let nodes = cx.required(obj, "num_nodes", v::integer32);
        let tags = cx.optional(
            obj,
            "filter_tags",
            Map::new(),
            v::sized(MAX_TAGS_BYTES, v::string_map),
        );
        Some(serde_json::json!({"job_mode": mode?, "num_nodes": nodes?, "filter_tags": tags?}))
    })?;
    Some(Value::Array(parts))
}

impl BatchJobCreate {
    pub fn from_json(body: &Value) -> Result<Self, ValidationErrors> {
        let mut cx = Cx::new("body");
        let created = v::object(&mut cx, body).and_then(|obj| {
            let site_id = cx.required(obj, "site_id", v::integer);
            let project = cx.required(obj, "project", |cx, x| v::string_max(cx, x, 64));
            let queue = cx.required(obj, "queue", |cx, x| v::string_max(cx, x, 64));
            let num_nodes = cx.required(obj, "num_nodes", v::integer32);
            let wall_time_min = cx.required(obj, "wall_time_min", v::integer32);
            let job_mode = cx.required(obj, "job_mode", |cx, x| v::enum_str(cx, x, JOB_MODES));
            let optional_params = cx.optional(
                obj,
                "optional_params",
                Map::new(),
                v::sized(MAX_PARAMS_BYTES, v::string_map),
            );
            let filter_tags = cx.optional(
                obj,
                "filter_tags",
                Map::new(),
                v::sized(MAX_TAGS_BYTES, v::string_map),
            );
            let partitions = cx.nullable(obj, "partitions", partitions);
            Some(BatchJobCreate {
                site_id: site_id?,
                project: project?,
                queue: queue?,
                num_nodes: num_nodes?,
                wall_time_min: wall_time_min?,
                job_mode: job_mode?,
                optional_params: optional_params?,
                filter_tags: filter_tags?,
                partitions: partitions?,
            })
        });
        cx.finish(created)
    }
}

impl BatchJobPatch {
    pub fn from_json(body: &Value) -> Result<Self, ValidationErrors> {
        let mut cx = Cx::new("body");
        let patch = v::object(&mut cx, body).map(|obj| Self::from_object(&mut cx, obj));
        cx.finish(patch)
    }

    fn from_object(cx: &mut Cx, obj: &Map<String, Value>) -> BatchJobPatch {
        BatchJobPatch {
            scheduler_id: cx.patch_nullable(obj, "scheduler_id", v::integer32),
            // null state: not given (upstream failed with a 500).
            state: cx
                .patch_nullable(obj, "state", |cx, x| v::enum_str(cx, x, BATCH_JOB_STATES))
                .flatten(),
            // null status_info: treated as {} (upstream stored NULL and broke later reads).
            status_info: cx
                .patch_nullable(
                    obj,
                    "status_info",
                    v::sized(MAX_PARAMS_BYTES, v::string_map),
                )
                .map(Option::unwrap_or_default),
            start_time: cx.patch_nullable(obj, "start_time", v::datetime),
            end_time: cx.patch_nullable(obj, "end_time", v::datetime),
        }
    }

    /// Validates the body of `PATCH /batch-jobs/`; duplicate ids collapse, the last wins.
    pub fn list_from_json(body: &Value) -> Result<Vec<(Id, BatchJobPatch)>, ValidationErrors> {
        v::id_patches(body, Self::from_object)
    }
}

/// The stored state a BatchJob patch leads to: a BatchJob in `pending_deletion` only
/// moves on to `finished`; any other requested state is ignored (upstream rule).
pub fn batch_job_state_after(stored: &str, requested: Option<&str>) -> Option<String> {
    match requested {
        Some(r) if stored != "pending_deletion" || r == "finished" => Some(r.to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn create_validates_job_mode_and_coerces_tags() {
        let b = BatchJobCreate::from_json(&json!({"site_id": 1, "project": "p", "queue": "q",
            "num_nodes": 2, "wall_time_min": 10.5, "job_mode": "mpi", "filter_tags": {"a": 1},
            "partitions": [{"job_mode": "serial", "num_nodes": 2}], "state": "running"}))
        .unwrap();
        assert_eq!(b.wall_time_min, 10);
        assert_eq!(Value::Object(b.filter_tags), json!({"a": "1"}));
        assert_eq!(
            b.partitions,
            Some(json!([{"job_mode": "serial", "num_nodes": 2, "filter_tags": {}}]))
        );
        let err = BatchJobCreate::from_json(&json!({"site_id": 1, "project": "p", "queue": "q",
            "num_nodes": 2, "wall_time_min": 10, "job_mode": "bogus"}))
        .unwrap_err();
        assert_eq!(err.0[0].kind, "type_error.enum");
    }

    #[test]
    fn bulk_patches_collapse_duplicate_ids_keeping_the_last() {
        let p = BatchJobPatch::list_from_json(&json!([{"id": 1, "state": "queued"},
            {"id": 2, "state": "running"}, {"id": 1, "state": "finished"}]))
        .unwrap();
        let ids: Vec<_> = p
            .iter()
            .map(|(id, p)| (*id, p.state.clone().unwrap()))
            .collect();
        assert_eq!(
            ids,
            vec![(2, "running".to_string()), (1, "finished".to_string())]
        );
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
