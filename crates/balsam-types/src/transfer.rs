//! TransferItems: one stage-in or stage-out of a job, created with the job from its
//! App's transfer slots, advanced by the Site's transfer service.
//!
//! Repetition note: every body is validated with the same steps on purpose (`Cx` fields,
//! required or optional, coerced as pydantic v1 does); what repeats is that pattern with
//! this type's fields.

use crate::app::TransferDirection;
use crate::validate::{self as v, Cx, ValidationErrors};
use crate::Id;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

pub const TRANSFER_STATES: &[&str] = &[
    "awaiting_job",
    "pending",
    "active",
    "inactive",
    "done",
    "error",
];

/// A TransferItem as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TransferItem {
    pub id: Id,
    pub job_id: Id,
    pub direction: TransferDirection,
    pub local_path: String,
    pub remote_path: String,
    pub location_alias: String,
    pub recursive: bool,
    /// awaiting_job, pending, active, inactive, done or error.
    pub state: String,
    pub task_id: String,
    #[schema(value_type = Object)]
    pub transfer_info: Map<String, Value>,
}

/// An update of a TransferItem: only these fields, only when present.
#[derive(Debug, Clone, Default, PartialEq, ToSchema)]
pub struct TransferPatch {
    pub state: Option<String>,
    pub task_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub transfer_info: Option<Map<String, Value>>,
}

/// Filters of `GET /transfers/`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TransferQuery {
    pub ids: Vec<Id>,
    pub site_id: Option<Id>,
    pub job_ids: Vec<Id>,
    pub states: Vec<String>,
    pub direction: Option<String>,
    pub job_state: Option<String>,
    pub tags: Vec<(String, String)>,
}

impl TransferPatch {
    pub fn from_json(body: &Value) -> Result<Self, ValidationErrors> {
        let mut cx = Cx::new("body");
        let p = v::object(&mut cx, body).map(|obj| Self::from_object(&mut cx, obj));
        cx.finish(p)
    }

    fn from_object(cx: &mut Cx, obj: &Map<String, Value>) -> TransferPatch {
        TransferPatch {
            state: cx.patch(obj, "state", |cx, x| v::enum_str(cx, x, TRANSFER_STATES)),
            task_id: cx.patch(obj, "task_id", |cx, x| v::string_max(cx, x, 100)),
            transfer_info: cx.patch(
                obj,
                "transfer_info",
                v::sized(crate::limits::MAX_DATA_BYTES, |cx, x| {
                    v::object(cx, x).cloned()
                }),
            ),
        }
    }

    /// Validates the body of `PATCH /transfers/`; duplicate ids collapse, the last wins.
    pub fn list_from_json(body: &Value) -> Result<Vec<(Id, TransferPatch)>, ValidationErrors> {
        v::id_patches(body, Self::from_object)
    }
}
