//! The change log on both backends: the append a commit ends with, and the replay
//! reads ([`ChangeLogStore`](crate::ChangeLogStore)), written once; what each dialect
//! spells differently is [`ChangeLogSql`], implemented in the backend's `change_log.rs`.
//!
//! Repetition note: each resource's listing, read, create and delete have the same shape on
//! purpose; the shared steps are `paged!`, `get_owned!`, `lock_owned!` and `commit_one`
//! (`shared/mod.rs`), and what repeats is each call with that resource's SQL.

use super::jobs::JobSql;
use crate::StoreError;
use balsam_types::{LoggedEvent, Outbox, UserId};
use chrono::{DateTime, Utc};

/// The append a commit ends with (written once, in [`change_log_store!`]).
#[async_trait::async_trait]
pub(crate) trait AppendEvents: sqlx::Database {
    /// Appends the owner's changes to the event log, numbering them after the owner's
    /// last sequence number. Called last in a transaction: it holds the owner's counter row
    /// until commit, which keeps numbers in commit order. When the changes moved job counts,
    /// the owner's per-Site state counts follow as one more change, read after the counter
    /// row is taken: every earlier commit of the owner has then landed, so the counts are
    /// exactly those after this commit.
    async fn append_events(
        conn: &mut Self::Connection,
        owner: UserId,
        out: &Outbox,
        now: DateTime<Utc>,
    ) -> Result<Vec<LoggedEvent>, StoreError>;
}

/// The change-log SQL each dialect writes its own way.
pub(crate) trait ChangeLogSql: JobSql {
    /// Inserts the payloads `$4` as the owner's (`$1`) entries numbered from `$2`, created
    /// at `$3`.
    const APPEND: &'static str;
    /// Deletes every user's entries but the newest `$1`.
    const PRUNE_BY_COUNT: &'static str;
    /// Sets a fresh random log epoch and returns it.
    const NEW_EPOCH: &'static str;
    /// The payloads as [`ChangeLogSql::APPEND`] binds them.
    type Payloads<'a>: Send;
    fn payloads<'a>(payloads: &'a [&'a str]) -> Self::Payloads<'a>;
}

/// `impl AppendEvents for $db` and `impl ChangeLogStore for $store`, where `$db` is the store's
/// `sqlx::Database`.
macro_rules! change_log_store {
    ($store:ty, $db:ty) => {
        use crate::change_log::{ChangeLogPage, ChangeLogStore, CommitListener};
        use crate::shared::change_log::{AppendEvents, ChangeLogSql};
        use crate::shared::counts::group_counts;
        use crate::shared::jobs::JobSql;
        use crate::shared::{Backend as _, Dialect};
        use crate::StoreError;
        use balsam_types::{LoggedEvent, Outbox, UserId};
        use chrono::{DateTime, Utc};

        type Db = $db;

        #[async_trait::async_trait]
        impl AppendEvents for $db {
            async fn append_events(
                conn: &mut <Db as sqlx::Database>::Connection,
                owner: UserId,
                out: &Outbox,
                now: DateTime<Utc>,
            ) -> Result<Vec<LoggedEvent>, StoreError> {
                let with_counts = out.state_counts_changed();
                let n = out.len() as i64 + i64::from(with_counts);
                let last: i64 = sqlx::query_scalar(
                    "INSERT INTO user_event_seq (user_id, seq) VALUES ($1, $2) ON CONFLICT (user_id) \
                     DO UPDATE SET seq = user_event_seq.seq + excluded.seq RETURNING seq",
                )
                .bind(owner)
                .bind(n)
                .fetch_one(&mut *conn)
                .await?;
                let first = last - n + 1;
                let mut payloads: Vec<&str> = out.payloads().iter().map(String::as_str).collect();
                let counts = if with_counts {
                    let rows: Vec<(i64, String, i64, f64)> = sqlx::query_as(<Db as JobSql>::STATE_COUNTS)
                        .bind(owner)
                        .fetch_all(&mut *conn)
                        .await?;
                    Outbox::state_counts_payload(&group_counts(rows))
                } else {
                    String::new()
                };
                if with_counts {
                    payloads.push(&counts);
                }
                sqlx::query(<Db as ChangeLogSql>::APPEND)
                .bind(owner)
                .bind(first)
                .bind(Db::time(&now))
                .bind(<Db as ChangeLogSql>::payloads(&payloads))
                .execute(&mut *conn)
                .await?;
                Ok(payloads
                    .iter()
                    .zip(first..)
                    .map(|(p, seq)| LoggedEvent {
                        seq,
                        payload: (*p).into(),
                    })
                    .collect())
            }
        }

        #[async_trait::async_trait]
        impl ChangeLogStore for $store {
            async fn events_after(
                &self,
                user: UserId,
                after: i64,
                limit: i64,
                max_bytes: usize,
            ) -> Result<ChangeLogPage, StoreError> {
                let mut tx = self.read().await?;
                let head = crate::shared::head_seq!(&mut *tx, user);
                let first: Option<i64> =
                    sqlx::query_scalar("SELECT min(seq) FROM event_log WHERE user_id = $1")
                        .bind(user)
                        .fetch_one(&mut *tx)
                        .await?;
                // Sizes first (octet_length reads the stored length, not the payload), then only
                // the payloads that fit in max_bytes.
                let sizes: Vec<(i64, i64)> = sqlx::query_as(
                    "SELECT seq, CAST(octet_length(payload) AS bigint) FROM event_log \
                     WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                )
                .bind(user)
                .bind(after)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
                let end = crate::change_log::page_end(after, &sizes, max_bytes);
                let rows: Vec<(i64, String)> = sqlx::query_as(
                    "SELECT seq, payload FROM event_log WHERE user_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq",
                )
                .bind(user)
                .bind(after)
                .bind(end)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(ChangeLogPage {
                    events: rows
                        .into_iter()
                        .map(|(seq, p)| LoggedEvent {
                            seq,
                            payload: p.into(),
                        })
                        .collect(),
                    head,
                    first_available: first.unwrap_or(head + 1),
                })
            }

            async fn prune_event_log(
                &self,
                older_than: DateTime<Utc>,
                keep_per_user: i64,
            ) -> Result<u64, StoreError> {
                let mut tx = self.write().await?;
                let by_age = sqlx::query("DELETE FROM event_log WHERE created_at < $1")
                    .bind(Db::time(&older_than))
                    .execute(&mut *tx)
                    .await?;
                let by_count = sqlx::query(<Db as ChangeLogSql>::PRUNE_BY_COUNT)
                .bind(keep_per_user)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(by_age.rows_affected() + by_count.rows_affected())
            }

            async fn log_epoch(&self) -> Result<String, StoreError> {
                Ok(
                    sqlx::query_scalar("SELECT epoch FROM log_epoch WHERE id = 1")
                        .fetch_one(self.read_pool())
                        .await?,
                )
            }

            async fn new_log_epoch(&self) -> Result<String, StoreError> {
                let mut tx = self.write().await?;
                let epoch: String = sqlx::query_scalar(<Db as ChangeLogSql>::NEW_EPOCH)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(epoch)
            }

            fn on_commit(&self, listener: CommitListener) {
                self.notifier().set(listener);
            }
        }
    };
}
pub(crate) use change_log_store;
