//! Resource changes as the event stream carries them: `{"action", "type", "data"}` with
//! full instances (deletes carry ids), encoded once per change. The server appends
//! them to a per-user event log in the same transaction as the change itself.

use serde::Serialize;
use std::sync::Arc;

/// Resource type names on the wire (upstream's snake_case).
pub mod kind {
    pub const SITE: &str = "site";
    pub const APP: &str = "app";
    pub const BATCH_JOB: &str = "batch_job";
    pub const SESSION: &str = "session";
    pub const JOB: &str = "job";
    pub const TRANSFER_ITEM: &str = "transfer_item";
    pub const LOG_EVENT: &str = "log_event";
    /// Not a resource: the owner's per-Site job counts by state after a commit that
    /// changed them (`update`, data as `GET /jobs/state-counts` answers). Not part of the
    /// upstream protocol.
    pub const STATE_COUNTS: &str = "state_counts";
}

/// Largest number of instances in one list-wise change; bigger batches are split.
pub const MAX_ITEMS_PER_CHANGE: usize = 1000;

/// One entry of a user's event log: its sequence number and the encoded change.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    pub seq: i64,
    pub payload: Arc<str>,
}

/// Changes collected during one transaction, already encoded.
#[derive(Debug, Default)]
pub struct Outbox {
    payloads: Vec<String>,
    /// Jobs were created or deleted, or changed state (every state change records a
    /// LogEvent): the commit appends the owner's state counts as its last change.
    state_counts_changed: bool,
}

impl Outbox {
    pub fn new() -> Self {
        Self::default()
    }

    /// `create`/`update` of one Site, App, BatchJob or Session.
    pub fn single<T: Serialize>(&mut self, kind: &str, action: &str, item: &T) {
        self.push(
            action,
            kind,
            &serde_json::to_string(item).unwrap_or_default(),
        );
    }

    /// `delete` of Sites, Apps, BatchJobs or Sessions: one change per id, `{"id": n}`.
    pub fn deleted(&mut self, kind: &str, ids: &[i64]) {
        for id in ids {
            self.push("delete", kind, &format!("{{\"id\":{id}}}"));
        }
    }

    /// `bulk-create`/`bulk-update` of Jobs, TransferItems or LogEvents: lists of full
    /// instances, split into chunks of [`MAX_ITEMS_PER_CHANGE`].
    pub fn list<T: Serialize>(&mut self, kind: &str, action: &str, items: &[T]) {
        if !items.is_empty()
            && ((kind == kind::JOB && action == "bulk-create") || kind == kind::LOG_EVENT)
        {
            self.state_counts_changed = true;
        }
        for chunk in items.chunks(MAX_ITEMS_PER_CHANGE) {
            self.push(
                action,
                kind,
                &serde_json::to_string(chunk).unwrap_or_default(),
            );
        }
    }

    /// `bulk-delete` of Jobs, TransferItems or LogEvents: `{"ids": [...]}`, chunked.
    pub fn list_deleted(&mut self, kind: &str, ids: &[i64]) {
        if kind == kind::JOB && !ids.is_empty() {
            self.state_counts_changed = true;
        }
        for chunk in ids.chunks(MAX_ITEMS_PER_CHANGE) {
            let ids = serde_json::to_string(chunk).unwrap_or_default();
            self.push("bulk-delete", kind, &format!("{{\"ids\":{ids}}}"));
        }
    }

    fn push(&mut self, action: &str, kind: &str, data: &str) {
        self.payloads.push(format!(
            "{{\"action\":\"{action}\",\"type\":\"{kind}\",\"data\":{data}}}"
        ));
    }

    pub fn is_empty(&self) -> bool {
        self.payloads.is_empty()
    }

    pub fn len(&self) -> usize {
        self.payloads.len()
    }

    /// The encoded changes, in the order they happened.
    pub fn payloads(&self) -> &[String] {
        &self.payloads
    }

    pub fn extend(&mut self, other: Outbox) {
        self.payloads.extend(other.payloads);
        self.state_counts_changed |= other.state_counts_changed;
    }

    /// Whether the commit must append the owner's state counts (see the field).
    pub fn state_counts_changed(&self) -> bool {
        self.state_counts_changed
    }

    /// Records a change of per-Site counts that no job event shows (an App moving Site).
    pub fn mark_state_counts_changed(&mut self) {
        self.state_counts_changed = true;
    }

    /// The `state_counts` change: `{"action":"update","type":"state_counts","data":[…]}`.
    pub fn state_counts_payload<T: Serialize>(counts: &[T]) -> String {
        format!(
            "{{\"action\":\"update\",\"type\":\"{}\",\"data\":{}}}",
            kind::STATE_COUNTS,
            serde_json::to_string(counts).unwrap_or_else(|_| "[]".into())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn job_creates_deletes_and_state_changes_mark_the_counts_changed() {
        let mut out = Outbox::new();
        out.single(kind::SITE, "create", &json!({"id": 1}));
        out.list(kind::JOB, "bulk-update", &[json!({"id": 1})]); // no state change
        out.list(kind::LOG_EVENT, "bulk-create", &Vec::<Value>::new());
        assert!(!out.state_counts_changed());
        out.list(kind::LOG_EVENT, "bulk-create", &[json!({"id": 1})]);
        assert!(out.state_counts_changed());
        let mut deleted = Outbox::new();
        deleted.list_deleted(kind::JOB, &[3]);
        let mut created = Outbox::new();
        created.list(kind::JOB, "bulk-create", &[json!({"id": 1})]);
        let mut merged = Outbox::new();
        merged.extend(deleted);
        assert!(merged.state_counts_changed() && created.state_counts_changed());
        let payload = Outbox::state_counts_payload(&[json!({"site_id": 1, "counts": {}})]);
        assert_eq!(
            serde_json::from_str::<Value>(&payload).unwrap(),
            json!({"action": "update", "type": "state_counts",
                   "data": [{"site_id": 1, "counts": {}}]})
        );
    }

    #[test]
    fn changes_are_upstream_shaped_and_lists_are_chunked() {
        let mut out = Outbox::new();
        out.single(kind::SITE, "create", &json!({"id": 1, "name": "s"}));
        out.deleted(kind::APP, &[4, 5]);
        let jobs: Vec<Value> = (0..2500).map(|i| json!({"id": i})).collect();
        out.list(kind::JOB, "bulk-update", &jobs);
        out.list_deleted(kind::LOG_EVENT, &[7, 8]);
        let parsed: Vec<Value> = out
            .payloads()
            .iter()
            .map(|p| serde_json::from_str(p).unwrap())
            .collect();
        assert_eq!(
            parsed[0],
            json!({"action": "create", "type": "site", "data": {"id": 1, "name": "s"}})
        );
        assert_eq!(
            parsed[1],
            json!({"action": "delete", "type": "app", "data": {"id": 4}})
        );
        assert_eq!(parsed[3]["data"].as_array().unwrap().len(), 1000);
        assert_eq!(parsed[5]["data"].as_array().unwrap().len(), 500);
        assert_eq!(
            parsed[6],
            json!({"action": "bulk-delete", "type": "log_event", "data": {"ids": [7, 8]}})
        );
        assert_eq!(out.len(), 7);
    }
}
