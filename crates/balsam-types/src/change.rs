//! Resource changes as the event stream carries them: `{"action", "type", "data"}` with
//! full instances (deletes carry ids), encoded once per change. The server appends
//! them to a per-user event log in the same transaction as the change itself.

use serde::Serialize;
use std::sync::Arc;

/// Resource type names on the wire (upstream's snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Site,
    App,
    BatchJob,
    Session,
    Job,
    TransferItem,
    LogEvent,
    /// Not a resource: the owner's per-Site job counts by state after a commit that
    /// changed them (`update`, data as `GET /jobs/state-counts` answers). Not part of the
    /// upstream protocol.
    StateCounts,
}

impl Kind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Site => "site",
            Kind::App => "app",
            Kind::BatchJob => "batch_job",
            Kind::Session => "session",
            Kind::Job => "job",
            Kind::TransferItem => "transfer_item",
            Kind::LogEvent => "log_event",
            Kind::StateCounts => "state_counts",
        }
    }
}

/// What happened to the instances of a change (upstream's action names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
    BulkCreate,
    BulkUpdate,
    BulkDelete,
}

impl Action {
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::BulkCreate => "bulk-create",
            Action::BulkUpdate => "bulk-update",
            Action::BulkDelete => "bulk-delete",
        }
    }
}

/// A type the event stream carries, and under which name.
pub trait Resource: Serialize {
    const KIND: Kind;
}

macro_rules! resources {
    ($($ty:ty => $kind:ident),* $(,)?) => {
        $(impl Resource for $ty {
            const KIND: Kind = Kind::$kind;
        })*
    };
}

resources! {
    crate::Site => Site,
    crate::App => App,
    crate::BatchJob => BatchJob,
    crate::Session => Session,
    crate::Job => Job,
    crate::TransferItem => TransferItem,
    crate::LogEvent => LogEvent,
}

/// Largest number of instances in one list-wise change; bigger batches are split.
pub const MAX_ITEMS_PER_CHANGE: usize = 1000;

/// One entry of a user's event log: its sequence number and the encoded change
/// (`{"action","type","data"}` as JSON text, encoded once and never re-encoded).
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    pub seq: i64,
    pub payload: Arc<str>,
}

impl LoggedEvent {
    /// An entry from a sequence number and a JSON text.
    pub fn new(seq: i64, payload: impl Into<Arc<str>>) -> Self {
        Self {
            seq,
            payload: payload.into(),
        }
    }
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

    /// `create` of one Site, App, BatchJob or Session.
    pub fn created<T: Resource>(&mut self, item: &T) {
        self.one(Action::Create, item);
    }

    /// `update` of one Site, App, BatchJob or Session.
    pub fn updated<T: Resource>(&mut self, item: &T) {
        self.one(Action::Update, item);
    }

    /// `create` or `update` (as `action` says) of one Site, App, BatchJob or Session.
    pub fn one<T: Resource>(&mut self, action: Action, item: &T) {
        self.push_with(action, T::KIND, item);
    }

    /// `delete` of Sites, Apps, BatchJobs or Sessions: one change per id, `{"id": n}`.
    pub fn deleted<T: Resource>(&mut self, ids: &[i64]) {
        for id in ids {
            self.push(Action::Delete, T::KIND, &format!("{{\"id\":{id}}}"));
        }
    }

    /// `bulk-create` of Jobs, TransferItems or LogEvents: lists of full instances, split
    /// into chunks of [`MAX_ITEMS_PER_CHANGE`].
    pub fn bulk_created<T: Resource>(&mut self, items: &[T]) {
        self.list(Action::BulkCreate, items);
    }

    /// `bulk-update` of Jobs or TransferItems, chunked like [`Outbox::bulk_created`].
    pub fn bulk_updated<T: Resource>(&mut self, items: &[T]) {
        self.list(Action::BulkUpdate, items);
    }

    fn list<T: Resource>(&mut self, action: Action, items: &[T]) {
        if !items.is_empty()
            && ((T::KIND == Kind::Job && action == Action::BulkCreate) || T::KIND == Kind::LogEvent)
        {
            self.state_counts_changed = true;
        }
        for chunk in items.chunks(MAX_ITEMS_PER_CHANGE) {
            self.push_with(action, T::KIND, chunk);
        }
    }

    /// `bulk-delete` of Jobs, TransferItems or LogEvents: `{"ids": [...]}`, chunked.
    pub fn bulk_deleted<T: Resource>(&mut self, ids: &[i64]) {
        if T::KIND == Kind::Job && !ids.is_empty() {
            self.state_counts_changed = true;
        }
        for chunk in ids.chunks(MAX_ITEMS_PER_CHANGE) {
            let ids = serde_json::to_string(chunk).unwrap_or_default();
            self.push(Action::BulkDelete, T::KIND, &format!("{{\"ids\":{ids}}}"));
        }
    }

    fn push(&mut self, action: Action, kind: Kind, data: &str) {
        let mut out = Self::header(action, kind, data.len());
        out.push_str(data);
        out.push('}');
        self.payloads.push(out);
    }

    /// Like [`Outbox::push`] with `data` serialized straight into the payload: a
    /// 1 000-job change is ~0.5 MB, encoded into the payload itself rather than into a
    /// string that is then copied into it.
    fn push_with<T: Serialize + ?Sized>(&mut self, action: Action, kind: Kind, data: &T) {
        let mut out = Self::header(action, kind, 0).into_bytes();
        // Our own types serialize without error; `null` keeps the payload valid JSON.
        if serde_json::to_writer(&mut out, data).is_err() {
            out.extend_from_slice(b"null");
        }
        out.push(b'}');
        // serde_json writes UTF-8 only.
        self.payloads.push(
            String::from_utf8(out)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        );
    }

    fn header(action: Action, kind: Kind, data_len: usize) -> String {
        let mut out = String::with_capacity(48 + data_len);
        out.push_str("{\"action\":\"");
        out.push_str(action.as_str());
        out.push_str("\",\"type\":\"");
        out.push_str(kind.as_str());
        out.push_str("\",\"data\":");
        out
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
            "{{\"action\":\"{}\",\"type\":\"{}\",\"data\":{}}}",
            Action::Update.as_str(),
            Kind::StateCounts.as_str(),
            serde_json::to_string(counts).unwrap_or_else(|_| "[]".into())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// A JSON value standing for an instance of the resource `K` names.
    macro_rules! stand_ins {
        ($($name:ident => $kind:ident),*) => {
            $(#[derive(Serialize)]
            #[serde(transparent)]
            struct $name(Value);
            impl Resource for $name {
                const KIND: Kind = Kind::$kind;
            })*
        };
    }
    stand_ins!(Site => Site, App => App, Job => Job, LogEvent => LogEvent);

    #[test]
    fn job_creates_deletes_and_state_changes_mark_the_counts_changed() {
        let mut out = Outbox::new();
        out.created(&Site(json!({"id": 1})));
        out.bulk_updated(&[Job(json!({"id": 1}))]); // no state change
        out.bulk_created::<LogEvent>(&[]);
        assert!(!out.state_counts_changed());
        out.bulk_created(&[LogEvent(json!({"id": 1}))]);
        assert!(out.state_counts_changed());
        let mut deleted = Outbox::new();
        deleted.bulk_deleted::<Job>(&[3]);
        let mut created = Outbox::new();
        created.bulk_created(&[Job(json!({"id": 1}))]);
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
        out.created(&Site(json!({"id": 1, "name": "s"})));
        out.deleted::<App>(&[4, 5]);
        let jobs: Vec<Job> = (0..2500).map(|i| Job(json!({"id": i}))).collect();
        out.bulk_updated(&jobs);
        out.bulk_deleted::<LogEvent>(&[7, 8]);
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
        assert_eq!(parsed[3]["action"], "bulk-update");
        assert_eq!(parsed[3]["type"], "job");
        assert_eq!(parsed[3]["data"].as_array().unwrap().len(), 1000);
        assert_eq!(parsed[5]["data"].as_array().unwrap().len(), 500);
        assert_eq!(
            parsed[6],
            json!({"action": "bulk-delete", "type": "log_event", "data": {"ids": [7, 8]}})
        );
        assert_eq!(out.len(), 7);
    }
}
