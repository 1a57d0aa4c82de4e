//! The per-user event log: every committed change, numbered per user without gaps in
//! commit order, appended in the same transaction as the change. Live delivery starts
//! from the commit listener; replay and resync read from here.
//!
//! Repetition note: the trait's method signatures repeat in their one implementation,
//! `shared/change_log.rs`, as Rust requires.

use crate::StoreError;
use balsam_types::{LoggedEvent, UserId};
use chrono::{DateTime, Utc};
use std::sync::{Arc, OnceLock};

/// Called after every commit that appended events, with that user's new entries in order.
pub type CommitListener = Arc<dyn Fn(UserId, Vec<LoggedEvent>) + Send + Sync>;

/// A slice of one user's log.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeLogPage {
    /// Entries with `seq > after`, in order, at most `limit`.
    pub events: Vec<LoggedEvent>,
    /// The user's latest sequence number (0 before any change).
    pub head: i64,
    /// The oldest sequence number still in the log (`head + 1` when it is empty); a
    /// client that applied less than `first_available - 1` has missed pruned entries.
    pub first_available: i64,
}

#[async_trait::async_trait]
pub trait ChangeLogStore {
    /// Up to `limit` of the user's entries after `after`, with the log's bounds, cut
    /// before the entry that would take the page's payloads past `max_bytes` (the first
    /// entry always comes, whatever its size): replay memory is bounded by bytes, not by
    /// a count of entries that may each hold 1 000 instances.
    async fn events_after(
        &self,
        user: UserId,
        after: i64,
        limit: i64,
        max_bytes: usize,
    ) -> Result<ChangeLogPage, StoreError>;
    /// Deletes entries older than `older_than`, and beyond the newest `keep_per_user` of
    /// each user; returns how many went.
    async fn prune_event_log(
        &self,
        older_than: DateTime<Utc>,
        keep_per_user: i64,
    ) -> Result<u64, StoreError>;
    /// The log's epoch: an identity made once per database (migration 0007), so a
    /// sequence number from another database can be told from one of this database.
    async fn log_epoch(&self) -> Result<String, StoreError>;
    /// Replaces the epoch with a new random one (after restoring a backup): every client
    /// then resyncs instead of resuming. Returns the new epoch.
    async fn new_log_epoch(&self) -> Result<String, StoreError>;
    /// Installs the listener told about every commit's new entries (once).
    fn on_commit(&self, listener: CommitListener);
}

/// The last `seq` of the longest prefix of `sizes` (`(seq, payload bytes)` in order) that
/// fits in `max_bytes`, the first entry always included; `after` when `sizes` is empty.
pub(crate) fn page_end(after: i64, sizes: &[(i64, i64)], max_bytes: usize) -> i64 {
    let mut total = 0usize;
    let mut end = after;
    for &(seq, len) in sizes {
        total = total.saturating_add(usize::try_from(len).unwrap_or(0));
        if end != after && total > max_bytes {
            break;
        }
        end = seq;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::page_end;

    #[test]
    fn a_page_stops_before_the_entry_that_overflows_its_bytes() {
        let sizes = [(4, 10), (5, 10), (6, 10), (7, 10)];
        assert_eq!(page_end(3, &sizes, 25), 5);
        assert_eq!(page_end(3, &sizes, 40), 7);
        assert_eq!(page_end(3, &sizes, 1_000), 7);
        // The first entry comes whatever its size, so a page always makes progress.
        assert_eq!(page_end(3, &[(4, 100), (5, 1)], 10), 4);
        assert_eq!(page_end(3, &[], 10), 3);
    }
}

/// The listener slot each backend holds.
#[derive(Clone, Default)]
pub(crate) struct Notifier(Arc<OnceLock<CommitListener>>);

impl Notifier {
    pub(crate) fn set(&self, listener: CommitListener) {
        if self.0.set(listener).is_err() {
            tracing::warn!("a commit listener was already installed; keeping the first");
        }
    }

    pub(crate) fn notify(&self, user: UserId, events: Vec<LoggedEvent>) {
        if events.is_empty() {
            return;
        }
        if let Some(listener) = self.0.get() {
            listener(user, events);
        }
    }
}
