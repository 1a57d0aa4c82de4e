//! TransferItem rows, the same on both backends (no timestamp or dialect-typed columns).

use balsam_types::app::TransferDirection;
use balsam_types::TransferItem;
use serde_json::{Map, Value};
use sqlx::types::Json;

pub(crate) const TRANSFER_COLUMNS: &str =
    "t.id, t.job_id, t.direction, t.local_path, t.remote_path, \
    t.location_alias, t.recursive, t.state, t.task_id, t.transfer_info";

/// The same columns, unqualified, for `RETURNING`.
pub(crate) const TRANSFER_RETURNING: &str = "id, job_id, direction, local_path, remote_path, \
    location_alias, recursive, state, task_id, transfer_info";

#[derive(sqlx::FromRow)]
pub(crate) struct TransferRow {
    pub(crate) id: i64,
    job_id: i64,
    direction: String,
    local_path: String,
    remote_path: String,
    location_alias: String,
    recursive: bool,
    state: String,
    task_id: String,
    transfer_info: Json<Map<String, Value>>,
}

impl From<TransferRow> for TransferItem {
    fn from(r: TransferRow) -> Self {
        TransferItem {
            id: r.id,
            job_id: r.job_id,
            direction: if r.direction == "in" {
                TransferDirection::In
            } else {
                TransferDirection::Out
            },
            local_path: r.local_path,
            remote_path: r.remote_path,
            location_alias: r.location_alias,
            recursive: r.recursive,
            state: r.state,
            task_id: r.task_id,
            transfer_info: r.transfer_info.0,
        }
    }
}
