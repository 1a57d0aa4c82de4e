//! Jobs: one task of a workflow, with its resources, tags, parents and transfers.
//!
//! Repetition note: every body is validated with the same steps on purpose (`Cx` fields,
//! required or optional, coerced as pydantic v1 does); what repeats is that pattern with
//! this type's fields.

use crate::job_state::JobState;
use crate::limits::{MAX_DATA_BYTES, MAX_PARAMS_BYTES, MAX_TAGS_BYTES};
use crate::validate::{self as v, Cx, ValidationErrors};
use crate::{time, Id};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Upstream's `MAX_SERIALIZED_PARAMS_SIZE`, in characters.
pub const MAX_SERIALIZED_SIZE: usize = 512_000;
/// Upstream's `MAX_ITEMS_PER_BULK_OP`.
pub const MAX_ITEMS_PER_BULK_OP: usize = 5000;
/// Upstream column size of `Job.workdir`.
pub const MAX_WORKDIR: usize = 256;

/// A Job as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Job {
    pub id: Id,
    pub workdir: String,
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub tags: Map<String, Value>,
    pub app_id: Id,
    /// The Session holding the job's lock, if any (internal; the client ignores it).
    pub session_id: Option<Id>,
    pub serialized_parameters: String,
    pub serialized_return_value: String,
    pub serialized_exception: String,
    pub batch_job_id: Option<Id>,
    pub state: JobState,
    /// Aware UTC (`+00:00`).
    #[serde(serialize_with = "time::aware")]
    #[schema(value_type = String, example = "2026-11-29T17:02:03.408584+00:00")]
    pub last_update: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
    pub return_code: Option<i64>,
    pub pending_file_cleanup: bool,
    pub parent_ids: Vec<Id>,
    pub num_nodes: i64,
    pub ranks_per_node: i64,
    pub threads_per_rank: i64,
    pub threads_per_core: i64,
    pub gpus_per_rank: f64,
    pub node_packing_count: i64,
    pub wall_time_min: i64,
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub launch_params: Map<String, Value>,
}

/// Where one transfer slot of a new job points: a Site transfer location and a path there.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TransferSpec {
    pub location_alias: String,
    /// Absolute path at the remote location.
    pub path: String,
}

/// One item of the body of `POST /jobs/`.
#[derive(Debug, Clone, PartialEq, ToSchema)]
pub struct JobCreate {
    pub workdir: String,
    pub app_id: Id,
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub tags: Map<String, Value>,
    pub serialized_parameters: String,
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
    pub return_code: Option<i64>,
    pub num_nodes: i64,
    pub ranks_per_node: i64,
    pub threads_per_rank: i64,
    pub threads_per_core: i64,
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub launch_params: Map<String, Value>,
    pub gpus_per_rank: f64,
    pub node_packing_count: i64,
    pub wall_time_min: i64,
    pub parent_ids: Vec<Id>,
    /// `{slot name: {location_alias, path}}`.
    #[schema(value_type = std::collections::HashMap<String, TransferSpec>)]
    pub transfers: Vec<(String, TransferSpec)>,
}

/// A partial job update (`PUT /jobs/{id}`, `PUT /jobs/`, one item of `PATCH /jobs/`):
/// only the fields present are applied.
#[derive(Debug, Clone, Default, PartialEq, ToSchema)]
pub struct JobPatch {
    pub workdir: Option<String>,
    #[schema(value_type = Option<std::collections::HashMap<String, String>>)]
    pub tags: Option<Map<String, Value>>,
    pub serialized_parameters: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub data: Option<Map<String, Value>>,
    pub return_code: Option<Option<i64>>,
    pub num_nodes: Option<i64>,
    pub ranks_per_node: Option<i64>,
    pub threads_per_rank: Option<i64>,
    pub threads_per_core: Option<i64>,
    #[schema(value_type = Option<std::collections::HashMap<String, String>>)]
    pub launch_params: Option<Map<String, Value>>,
    pub gpus_per_rank: Option<f64>,
    pub node_packing_count: Option<i64>,
    pub wall_time_min: Option<i64>,
    pub batch_job_id: Option<Option<Id>>,
    /// The requested state (null means no change). The server may rewrite it.
    pub state: Option<JobState>,
    /// When the state changed (default: now). Stored as the LogEvent timestamp.
    #[schema(value_type = Option<String>)]
    pub state_timestamp: Option<DateTime<Utc>>,
    /// Stored as the LogEvent `data`.
    #[schema(value_type = Option<Object>)]
    pub state_data: Option<Map<String, Value>>,
    pub pending_file_cleanup: Option<bool>,
    pub serialized_return_value: Option<String>,
    pub serialized_exception: Option<String>,
}

/// One item of `PATCH /jobs/`.
#[derive(Debug, Clone, PartialEq)]
pub struct JobBulkPatch {
    pub id: Id,
    pub patch: JobPatch,
}

/// Job list orderings: the primary key, then ascending id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOrdering {
    LastUpdate,
    Id,
    State,
    Workdir,
}

/// The allowed `ordering` values.
pub const JOB_ORDERINGS: &[&str] = &[
    "last_update",
    "-last_update",
    "id",
    "-id",
    "state",
    "-state",
    "workdir",
    "-workdir",
];

/// Filters shared by `GET`, `PUT` and `DELETE /jobs/`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobQuery {
    pub ids: Vec<Id>,
    pub parent_ids: Vec<Id>,
    pub app_id: Option<Id>,
    pub site_ids: Vec<Id>,
    pub batch_job_id: Option<Id>,
    pub last_update_before: Option<DateTime<Utc>>,
    pub last_update_after: Option<DateTime<Utc>>,
    pub workdir_contains: Option<String>,
    pub states: Vec<JobState>,
    pub state_ne: Option<JobState>,
    /// Tag pairs the job must all carry.
    pub tags: Vec<(String, String)>,
    pub pending_file_cleanup: bool,
    /// `(key, descending)`; ascending id breaks ties.
    pub ordering: Option<(JobOrdering, bool)>,
}

/// Parses `"key:value"` filter items: split at the first `:`, items without one are
/// ignored, the last value of a repeated key wins.
pub fn parse_tag_filters(items: &[String]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for item in items {
        if let Some((k, v)) = item.split_once(':') {
            out.retain(|(key, _)| key != k);
            out.push((k.to_owned(), v.to_owned()));
        }
    }
    out
}

/// Parses an `ordering` value.
pub fn parse_job_ordering(raw: &str) -> Option<(JobOrdering, bool)> {
    let (desc, key) = match raw.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, raw),
    };
    let key = match key {
        "last_update" => JobOrdering::LastUpdate,
        "id" => JobOrdering::Id,
        "state" => JobOrdering::State,
        "workdir" => JobOrdering::Workdir,
        _ => return None,
    };
    Some((key, desc))
}

/// A JobState from JSON (`type_error.enum` otherwise).
pub fn job_state(cx: &mut Cx, x: &Value) -> Option<JobState> {
    if let Some(state) = x.as_str().and_then(JobState::parse) {
        return Some(state);
    }
    let names = JobState::names();
    cx.error_ctx(
        v::enum_message(&names),
        "type_error.enum",
        Some(v::enum_ctx(&names)),
    );
    None
}

fn serialized(field: &'static str) -> impl FnOnce(&mut Cx, &Value) -> Option<String> {
    move |cx, x| {
        let s = v::string(cx, x)?;
        if s.chars().count() > MAX_SERIALIZED_SIZE {
            cx.error(
                format!("{field} cannot be larger than {MAX_SERIALIZED_SIZE}"),
                "assertion_error",
            );
            return None;
        }
        Some(s)
    }
}

fn workdir(cx: &mut Cx, x: &Value) -> Option<String> {
    v::relative_path(cx, x, MAX_WORKDIR)
}

fn data(cx: &mut Cx, x: &Value) -> Option<Map<String, Value>> {
    v::sized(MAX_DATA_BYTES, |cx, x| v::object(cx, x).cloned())(cx, x)
}

fn tags(cx: &mut Cx, x: &Value) -> Option<Map<String, Value>> {
    v::sized(MAX_TAGS_BYTES, v::string_map)(cx, x)
}

fn launch_params(cx: &mut Cx, x: &Value) -> Option<Map<String, Value>> {
    v::sized(MAX_PARAMS_BYTES, v::string_map)(cx, x)
}

fn transfers(cx: &mut Cx, x: &Value) -> Option<Vec<(String, TransferSpec)>> {
    let obj = v::object(cx, x)?;
    let mut out = Vec::with_capacity(obj.len());
    let mut ok = true;
    for (slot, spec) in obj {
        let parsed = cx.at(slot.as_str(), |cx| {
            let spec = v::object(cx, spec)?;
            let alias = cx.required(spec, "location_alias", |cx, x| v::string_max(cx, x, 256));
            let path = cx.required(spec, "path", |cx, x| v::absolute_path(cx, x, 256));
            Some(TransferSpec {
                location_alias: alias?,
                path: path?,
            })
        });
        match parsed {
            Some(p) => out.push((slot.clone(), p)),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

impl JobCreate {
    /// Validates the body of `POST /jobs/` (a list); errors carry the item index.
    pub fn list_from_json(body: &Value) -> Result<Vec<JobCreate>, ValidationErrors> {
        let mut cx = Cx::new("body");
        let jobs = v::list_of(&mut cx, body, |cx, item| {
            let obj = v::object(cx, item)?;
            Self::from_object(cx, obj)
        });
        cx.finish(jobs)
    }

    fn from_object(cx: &mut Cx, obj: &Map<String, Value>) -> Option<JobCreate> {
        let workdir = cx.required(obj, "workdir", workdir);
        let app_id = cx.required(obj, "app_id", v::integer);
        let tags = cx.optional(obj, "tags", Map::new(), tags);
        let params = cx.optional(
            obj,
            "serialized_parameters",
            String::new(),
            serialized("serialized_parameters"),
        );
        let data = cx.optional(obj, "data", Map::new(), data);
        let return_code = cx.nullable(obj, "return_code", v::integer32);
        let num_nodes = cx.optional(obj, "num_nodes", 1, v::integer32);
        let ranks_per_node = cx.optional(obj, "ranks_per_node", 1, v::integer32);
        let threads_per_rank = cx.optional(obj, "threads_per_rank", 1, v::integer32);
        let threads_per_core = cx.optional(obj, "threads_per_core", 1, v::integer32);
        let launch_params = cx.optional(obj, "launch_params", Map::new(), launch_params);
        let gpus_per_rank = cx.optional(obj, "gpus_per_rank", 0.0, v::float);
        let node_packing_count = cx.optional(obj, "node_packing_count", 1, v::integer32);
        let wall_time_min = cx.optional(obj, "wall_time_min", 0, v::integer32);
        let parent_ids = cx.optional(obj, "parent_ids", Vec::new(), |cx, x| {
            v::list_of(cx, x, v::integer)
        });
        let transfers = cx.optional(obj, "transfers", Vec::new(), transfers);
        let mut parent_ids = parent_ids?;
        // A set upstream: keep the first occurrence of each id.
        let mut seen = std::collections::HashSet::new();
        parent_ids.retain(|id| seen.insert(*id));
        Some(JobCreate {
            workdir: workdir?,
            app_id: app_id?,
            tags: tags?,
            serialized_parameters: params?,
            data: data?,
            return_code: return_code?,
            num_nodes: num_nodes?,
            ranks_per_node: ranks_per_node?,
            threads_per_rank: threads_per_rank?,
            threads_per_core: threads_per_core?,
            launch_params: launch_params?,
            gpus_per_rank: gpus_per_rank?,
            node_packing_count: node_packing_count?,
            wall_time_min: wall_time_min?,
            parent_ids,
            transfers: transfers?,
        })
    }
}

impl JobPatch {
    /// Validates a single update body.
    pub fn from_json(body: &Value) -> Result<JobPatch, ValidationErrors> {
        let mut cx = Cx::new("body");
        let patch = v::object(&mut cx, body).map(|obj| Self::from_object(&mut cx, obj));
        cx.finish(patch)
    }

    fn from_object(cx: &mut Cx, obj: &Map<String, Value>) -> JobPatch {
        JobPatch {
            workdir: cx.patch(obj, "workdir", workdir),
            tags: cx.patch(obj, "tags", tags),
            serialized_parameters: cx.patch(
                obj,
                "serialized_parameters",
                serialized("serialized_parameters"),
            ),
            data: cx.patch(obj, "data", data),
            return_code: cx.patch_nullable(obj, "return_code", v::integer32),
            num_nodes: cx.patch(obj, "num_nodes", v::integer32),
            ranks_per_node: cx.patch(obj, "ranks_per_node", v::integer32),
            threads_per_rank: cx.patch(obj, "threads_per_rank", v::integer32),
            threads_per_core: cx.patch(obj, "threads_per_core", v::integer32),
            launch_params: cx.patch(obj, "launch_params", launch_params),
            gpus_per_rank: cx.patch(obj, "gpus_per_rank", v::float),
            node_packing_count: cx.patch(obj, "node_packing_count", v::integer32),
            wall_time_min: cx.patch(obj, "wall_time_min", v::integer32),
            batch_job_id: cx.patch_nullable(obj, "batch_job_id", v::integer),
            // null state: no change, as upstream.
            state: cx.patch_nullable(obj, "state", job_state).flatten(),
            // null timestamp: now (upstream stored NULL and broke later reads).
            state_timestamp: cx
                .patch_nullable(obj, "state_timestamp", v::datetime)
                .flatten(),
            state_data: cx.patch(obj, "state_data", data),
            pending_file_cleanup: cx.patch(obj, "pending_file_cleanup", v::boolean),
            serialized_return_value: cx.patch(
                obj,
                "serialized_return_value",
                serialized("serialized_return_value"),
            ),
            serialized_exception: cx.patch(
                obj,
                "serialized_exception",
                serialized("serialized_exception"),
            ),
        }
    }

    /// The fields written as given (everything but the state machine's own), as a JSON
    /// object with only the keys present. Null values are real nulls (return_code, batch_job_id).
    pub fn field_writes(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.insert(k.to_owned(), v);
            }
        };
        put("workdir", self.workdir.clone().map(Value::from));
        put("tags", self.tags.clone().map(Value::Object));
        put(
            "serialized_parameters",
            self.serialized_parameters.clone().map(Value::from),
        );
        put("data", self.data.clone().map(Value::Object));
        put(
            "return_code",
            self.return_code.map(|r| r.map_or(Value::Null, Value::from)),
        );
        put("num_nodes", self.num_nodes.map(Value::from));
        put("ranks_per_node", self.ranks_per_node.map(Value::from));
        put("threads_per_rank", self.threads_per_rank.map(Value::from));
        put("threads_per_core", self.threads_per_core.map(Value::from));
        put(
            "launch_params",
            self.launch_params.clone().map(Value::Object),
        );
        put("gpus_per_rank", self.gpus_per_rank.map(Value::from));
        put(
            "node_packing_count",
            self.node_packing_count.map(Value::from),
        );
        put("wall_time_min", self.wall_time_min.map(Value::from));
        put(
            "batch_job_id",
            self.batch_job_id
                .map(|b| b.map_or(Value::Null, Value::from)),
        );
        put(
            "pending_file_cleanup",
            self.pending_file_cleanup.map(Value::from),
        );
        put(
            "serialized_return_value",
            self.serialized_return_value.clone().map(Value::from),
        );
        put(
            "serialized_exception",
            self.serialized_exception.clone().map(Value::from),
        );
        m
    }
}

impl JobBulkPatch {
    /// Validates the body of `PATCH /jobs/` (a list of patches, each with an `id`).
    pub fn list_from_json(body: &Value) -> Result<Vec<JobBulkPatch>, ValidationErrors> {
        let mut cx = Cx::new("body");
        let patches = v::list_of(&mut cx, body, |cx, item| {
            let obj = v::object(cx, item)?;
            let id = cx.required(obj, "id", v::integer);
            let patch = JobPatch::from_object(cx, obj);
            Some(JobBulkPatch { id: id?, patch })
        });
        cx.finish(patches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn create_applies_defaults_and_coercions() {
        let jobs = JobCreate::list_from_json(&json!([{"workdir": "./a//b/", "app_id": 3,
            "tags": {"foo": 1, "b": true}, "parent_ids": [2, 2, 1], "parameters": {"ignored": 1},
            "transfers": {"inp": {"location_alias": "laptop", "path": "/data//in.dat"}}}]))
        .unwrap();
        let j = &jobs[0];
        assert_eq!(j.workdir, "a/b");
        assert_eq!(
            Value::Object(j.tags.clone()),
            json!({"foo": "1", "b": "True"})
        );
        assert_eq!(j.parent_ids, vec![2, 1]);
        assert_eq!(
            (j.num_nodes, j.node_packing_count, j.gpus_per_rank),
            (1, 1, 0.0)
        );
        assert_eq!(j.transfers[0].1.path, "/data/in.dat");
    }

    #[test]
    fn create_errors_carry_the_item_index() {
        let err = JobCreate::list_from_json(&json!([{"workdir": "a", "app_id": 1},
            {"workdir": "/abs", "app_id": 1}]))
        .unwrap_err();
        assert_eq!(
            serde_json::to_value(&err.0[0].loc).unwrap(),
            json!(["body", 1, "workdir"])
        );
        assert_eq!(err.0[0].msg, "Cannot use absolute path");
        let err = JobCreate::list_from_json(&json!({"workdir": "a"})).unwrap_err();
        assert_eq!(err.0[0].kind, "type_error.list");
    }

    #[test]
    fn oversized_serialized_fields_are_assertion_errors() {
        let big = "x".repeat(MAX_SERIALIZED_SIZE + 1);
        let err = JobPatch::from_json(&json!({"serialized_return_value": big})).unwrap_err();
        assert_eq!(
            err.0[0].msg,
            "serialized_return_value cannot be larger than 512000"
        );
        assert_eq!(err.0[0].kind, "assertion_error");
    }

    #[test]
    fn patches_keep_only_present_keys_and_null_state_means_no_change() {
        let p =
            JobPatch::from_json(&json!({"state": null, "return_code": null, "state_message": "x"}))
                .unwrap();
        assert_eq!(p.state, None);
        assert_eq!(
            Value::Object(p.field_writes()),
            json!({"return_code": null})
        );
        let err = JobPatch::from_json(&json!({"workdir": null, "state": "BOGUS"})).unwrap_err();
        let kinds: Vec<_> = err.0.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["type_error.none.not_allowed", "type_error.enum"]);
    }

    #[test]
    fn tag_filters_split_at_the_first_colon_and_the_last_key_wins() {
        let items: Vec<String> = ["message:OK: done!", "novalue", "a:1", "a:2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            parse_tag_filters(&items),
            vec![
                ("message".into(), "OK: done!".into()),
                ("a".into(), "2".into())
            ]
        );
    }

    #[test]
    fn orderings_parse() {
        assert_eq!(
            parse_job_ordering("-last_update"),
            Some((JobOrdering::LastUpdate, true))
        );
        assert_eq!(
            parse_job_ordering("workdir"),
            Some((JobOrdering::Workdir, false))
        );
        assert_eq!(parse_job_ordering("tags"), None);
    }
}
