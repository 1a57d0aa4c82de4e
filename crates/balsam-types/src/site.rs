//! Sites: one Balsam Site agent's registration, configuration and scheduler heartbeat.
//!
//! Repetition note: `Site` and `SiteCreate` list the same fields with the same schema
//! annotations on purpose: one is what the API returns, the other what it accepts.

use crate::limits::MAX_PARAMS_BYTES;
use crate::validate::{self as v, Cx, ValidationErrors};
use crate::{time, Id};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Upstream column sizes, enforced with a 422 instead of upstream's 500.
pub const MAX_SITE_NAME: usize = 100;
pub const MAX_SITE_PATH: usize = 512;

/// BatchJob states, needed here for `queued_jobs`.
pub const BATCH_JOB_STATES: &[&str] = &[
    "pending_submission",
    "queued",
    "running",
    "finished",
    "submit_failed",
    "pending_deletion",
];

/// A Site as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Site {
    pub id: Id,
    pub name: String,
    pub path: String,
    pub globus_endpoint_id: Option<uuid::Uuid>,
    /// `{queue: [{num_nodes, wall_time_min}]}`.
    #[schema(value_type = std::collections::HashMap<String, Vec<BackfillWindow>>)]
    pub backfill_windows: Map<String, Value>,
    /// `{"<scheduler id>": SchedulerJobStatus}`.
    #[schema(value_type = std::collections::HashMap<String, SchedulerJobStatus>)]
    pub queued_jobs: Map<String, Value>,
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub optional_batch_job_params: Map<String, Value>,
    pub allowed_projects: Vec<String>,
    #[schema(value_type = std::collections::HashMap<String, AllowedQueue>)]
    pub allowed_queues: Map<String, Value>,
    /// `{alias: URL}`, e.g. `"globus://<uuid>"`.
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub transfer_locations: Map<String, Value>,
    /// The Site's heartbeat: set on create and on every PUT. Naive UTC.
    #[serde(serialize_with = "time::naive")]
    #[schema(value_type = String, example = "2026-11-29T17:01:53.101955")]
    pub last_refresh: DateTime<Utc>,
    #[serde(serialize_with = "time::naive")]
    #[schema(value_type = String, example = "2026-11-29T17:01:53.066574")]
    pub creation_date: DateTime<Utc>,
}

/// A free scheduler slot that a BatchJob could fill.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BackfillWindow {
    pub num_nodes: i64,
    pub wall_time_min: i64,
}

/// One scheduler job as the Site sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SchedulerJobStatus {
    pub scheduler_id: i64,
    pub state: String,
    pub queue: String,
    pub num_nodes: i64,
    pub wall_time_min: i64,
    pub project: String,
    pub time_remaining_min: i64,
    pub queued_time_min: i64,
}

/// Limits of one scheduler queue.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AllowedQueue {
    pub max_nodes: i64,
    pub max_walltime: i64,
    pub max_queued_jobs: i64,
}

/// The body of `POST /sites/`.
#[derive(Debug, Clone, PartialEq, ToSchema)]
pub struct SiteCreate {
    pub name: String,
    pub path: String,
    pub globus_endpoint_id: Option<uuid::Uuid>,
    #[schema(value_type = std::collections::HashMap<String, Vec<BackfillWindow>>)]
    pub backfill_windows: Map<String, Value>,
    #[schema(value_type = std::collections::HashMap<String, SchedulerJobStatus>)]
    pub queued_jobs: Map<String, Value>,
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub optional_batch_job_params: Map<String, Value>,
    pub allowed_projects: Vec<String>,
    #[schema(value_type = std::collections::HashMap<String, AllowedQueue>)]
    pub allowed_queues: Map<String, Value>,
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub transfer_locations: Map<String, Value>,
}

/// The body of `PUT /sites/{id}`: only the fields present are written.
#[derive(Debug, Clone, Default, PartialEq, ToSchema)]
pub struct SiteUpdate {
    pub name: Option<String>,
    pub path: Option<String>,
    pub globus_endpoint_id: Option<Option<uuid::Uuid>>,
    #[schema(value_type = Option<std::collections::HashMap<String, Vec<BackfillWindow>>>)]
    pub backfill_windows: Option<Map<String, Value>>,
    #[schema(value_type = Option<std::collections::HashMap<String, SchedulerJobStatus>>)]
    pub queued_jobs: Option<Map<String, Value>>,
    #[schema(value_type = Option<std::collections::HashMap<String, String>>)]
    pub optional_batch_job_params: Option<Map<String, Value>>,
    pub allowed_projects: Option<Vec<String>>,
    #[schema(value_type = Option<std::collections::HashMap<String, AllowedQueue>>)]
    pub allowed_queues: Option<Map<String, Value>>,
    #[schema(value_type = Option<std::collections::HashMap<String, String>>)]
    pub transfer_locations: Option<Map<String, Value>>,
}

/// Filters of `GET /sites/`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SiteQuery {
    pub name: Option<String>,
    /// Substring of the path.
    pub path: Option<String>,
    pub ids: Vec<Id>,
    pub last_refresh_after: Option<DateTime<Utc>>,
}

impl SiteCreate {
    /// Validates a `POST /sites/` body.
    pub fn from_json(body: &Value) -> Result<Self, ValidationErrors> {
        let mut cx = Cx::new("body");
        let site = v::object(&mut cx, body).and_then(|obj| {
            let name = cx.required(obj, "name", |cx, x| v::string_max(cx, x, MAX_SITE_NAME));
            let path = cx.required(obj, "path", |cx, x| v::absolute_path(cx, x, MAX_SITE_PATH));
            let globus = cx.nullable(obj, "globus_endpoint_id", v::uuid);
            let backfill = cx.optional(obj, "backfill_windows", Map::new(), backfill_windows);
            let queued = cx.optional(obj, "queued_jobs", Map::new(), queued_jobs);
            let params = cx.optional(
                obj,
                "optional_batch_job_params",
                Map::new(),
                v::sized(MAX_PARAMS_BYTES, v::string_map),
            );
            let projects = cx.optional(obj, "allowed_projects", Vec::new(), |cx, x| {
                v::list_of(cx, x, v::string)
            });
            let queues = cx.optional(obj, "allowed_queues", Map::new(), allowed_queues);
            let locations = cx.optional(obj, "transfer_locations", Map::new(), |cx, x| {
                v::map_of(cx, x, v::any_url)
            });
            Some(SiteCreate {
                name: name?,
                path: path?,
                globus_endpoint_id: globus?,
                backfill_windows: backfill?,
                queued_jobs: queued?,
                optional_batch_job_params: params?,
                allowed_projects: projects?,
                allowed_queues: queues?,
                transfer_locations: locations?,
            })
        });
        cx.finish(site)
    }
}

impl SiteUpdate {
    /// Validates a `PUT /sites/{id}` body; unknown keys are ignored.
    pub fn from_json(body: &Value) -> Result<Self, ValidationErrors> {
        let mut cx = Cx::new("body");
        let update = v::object(&mut cx, body).map(|obj| SiteUpdate {
            name: cx.patch(obj, "name", |cx, x| v::string_max(cx, x, MAX_SITE_NAME)),
            path: cx.patch(obj, "path", |cx, x| v::absolute_path(cx, x, MAX_SITE_PATH)),
            globus_endpoint_id: cx.patch_nullable(obj, "globus_endpoint_id", v::uuid),
            backfill_windows: cx.patch(obj, "backfill_windows", backfill_windows),
            queued_jobs: cx.patch(obj, "queued_jobs", queued_jobs),
            optional_batch_job_params: cx.patch(
                obj,
                "optional_batch_job_params",
                v::sized(MAX_PARAMS_BYTES, v::string_map),
            ),
            allowed_projects: cx.patch(obj, "allowed_projects", |cx, x| {
                v::list_of(cx, x, v::string)
            }),
            allowed_queues: cx.patch(obj, "allowed_queues", allowed_queues),
            transfer_locations: cx.patch(obj, "transfer_locations", |cx, x| {
                v::map_of(cx, x, v::any_url)
            }),
        });
        cx.finish(update)
    }
}

fn backfill_windows(cx: &mut Cx, x: &Value) -> Option<Map<String, Value>> {
    v::map_of(cx, x, |cx, windows| {
        v::list_of(cx, windows, |cx, w| {
            let obj = v::object(cx, w)?;
            let num_nodes = cx.required(obj, "num_nodes", v::integer);
            let wall_time_min = cx.required(obj, "wall_time_min", v::integer);
            Some(serde_json::json!({"num_nodes": num_nodes?, "wall_time_min": wall_time_min?}))
        })
    })
}

fn queued_jobs(cx: &mut Cx, x: &Value) -> Option<Map<String, Value>> {
    let obj = v::object(cx, x)?;
    let mut out = Map::new();
    let mut ok = true;
    for (key, status) in obj {
        let Some(sched_id) = cx.at(key.as_str(), |cx| {
            cx.at("__key__", |cx| v::integer(cx, &Value::String(key.clone())))
        }) else {
            ok = false;
            continue;
        };
        let parsed = cx.at(key.as_str(), |cx| scheduler_job_status(cx, status));
        match parsed {
            Some(p) => {
                out.insert(sched_id.to_string(), p);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn scheduler_job_status(cx: &mut Cx, x: &Value) -> Option<Value> {
    let obj = v::object(cx, x)?;
    let scheduler_id = cx.required(obj, "scheduler_id", v::integer);
    let state = cx.required(obj, "state", |cx, x| v::enum_str(cx, x, BATCH_JOB_STATES));
    let queue = cx.required(obj, "queue", v::string);
    let num_nodes = cx.required(obj, "num_nodes", v::integer);
    let wall_time_min = cx.required(obj, "wall_time_min", v::integer);
    let project = cx.required(obj, "project", v::string);
    let time_remaining_min = cx.required(obj, "time_remaining_min", v::integer);
    let queued_time_min = cx.required(obj, "queued_time_min", v::integer);
    Some(serde_json::json!({
        "scheduler_id": scheduler_id?,
        "state": state?,
        "queue": queue?,
        "num_nodes": num_nodes?,
        "wall_time_min": wall_time_min?,
        "project": project?,
        "time_remaining_min": time_remaining_min?,
        "queued_time_min": queued_time_min?,
    }))
}

fn allowed_queues(cx: &mut Cx, x: &Value) -> Option<Map<String, Value>> {
    v::map_of(cx, x, |cx, q| {
        let obj = v::object(cx, q)?;
        let max_nodes = cx.required(obj, "max_nodes", v::integer);
        let max_walltime = cx.required(obj, "max_walltime", v::integer);
        let max_queued_jobs = cx.required(obj, "max_queued_jobs", v::integer);
        Some(serde_json::json!({
            "max_nodes": max_nodes?,
            "max_walltime": max_walltime?,
            "max_queued_jobs": max_queued_jobs?,
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_minimal_site_gets_defaults_and_a_normalised_path() {
        let site =
            SiteCreate::from_json(&json!({"name": "theta", "path": "/projects//foo/"})).unwrap();
        assert_eq!(site.path, "/projects/foo");
        assert!(site.backfill_windows.is_empty());
        assert_eq!(site.globus_endpoint_id, None);
    }

    #[test]
    fn relative_paths_and_missing_names_are_reported_together() {
        let err = SiteCreate::from_json(&json!({"path": "rel"})).unwrap_err();
        let got = serde_json::to_value(&err.0).unwrap();
        assert_eq!(
            got,
            json!([
                {"loc": ["body", "name"], "msg": "field required", "type": "value_error.missing"},
                {"loc": ["body", "path"], "msg": "path must be absolute", "type": "value_error"}
            ])
        );
    }

    #[test]
    fn queued_job_keys_must_be_integers_and_are_canonicalised() {
        let status = json!({"scheduler_id": 123, "state": "queued", "queue": "default",
            "num_nodes": 2, "wall_time_min": 30, "project": "p", "time_remaining_min": 30,
            "queued_time_min": 3});
        let ok = SiteUpdate::from_json(&json!({"queued_jobs": {"0123": status.clone()}})).unwrap();
        assert!(ok.queued_jobs.unwrap().contains_key("123"));
        let err = SiteUpdate::from_json(&json!({"queued_jobs": {"abc": status}})).unwrap_err();
        assert_eq!(
            serde_json::to_value(&err.0[0].loc).unwrap(),
            json!(["body", "queued_jobs", "abc", "__key__"])
        );
    }

    #[test]
    fn updates_ignore_unknown_fields_and_reject_null_names() {
        let upd = SiteUpdate::from_json(&json!({"id": 4, "num_nodes": 9})).unwrap();
        assert_eq!(upd, SiteUpdate::default());
        let err = SiteUpdate::from_json(&json!({"name": null})).unwrap_err();
        assert_eq!(err.0[0].kind, "type_error.none.not_allowed");
    }

    #[test]
    fn names_longer_than_the_column_are_rejected() {
        let long = "x".repeat(MAX_SITE_NAME + 1);
        let err = SiteCreate::from_json(&json!({"name": long, "path": "/a"})).unwrap_err();
        assert_eq!(err.0[0].kind, "value_error.any_str.max_length");
    }
}
