//! The event log on SQLite: appending a commit's changes, and reading them back.

use super::job_queries::STATE_COUNTS_SQL;
use super::{head_seq, to_micros, SqliteStore};
use crate::change_log::{ChangeLogPage, ChangeLogStore, CommitListener};
use crate::shared::counts::group_counts;
use crate::shared::Backend as _;
use crate::StoreError;
use balsam_types::{LoggedEvent, Outbox, UserId};
use chrono::{DateTime, Utc};

/// Appends the owner's changes to the event log, numbering them after the owner's
/// last sequence number. Called last in a transaction: it holds the owner's counter row
/// until commit, which keeps numbers in commit order. When the changes moved job counts,
/// the owner's per-Site state counts follow as one more change, read after the counter
/// row is taken: every earlier commit of the owner has then landed, so the counts are
/// exactly those after this commit.
pub(super) async fn append_events(
    conn: &mut sqlx::SqliteConnection,
    owner: UserId,
    out: &Outbox,
    now: DateTime<Utc>,
) -> Result<Vec<LoggedEvent>, StoreError> {
    let with_counts = out.state_counts_changed();
    let n = out.len() as i64 + i64::from(with_counts);
    let last: i64 = sqlx::query_scalar(
        "INSERT INTO user_event_seq (user_id, seq) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO UPDATE SET seq = seq + excluded.seq RETURNING seq",
    )
    .bind(owner)
    .bind(n)
    .fetch_one(&mut *conn)
    .await?;
    let first = last - n + 1;
    let mut payloads: Vec<&str> = out.payloads().iter().map(String::as_str).collect();
    let counts = if with_counts {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(STATE_COUNTS_SQL)
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
    sqlx::query(
        "INSERT INTO event_log (user_id, seq, created_at, payload) \
         SELECT $1, $2 + key, $3, value FROM json_each($4)",
    )
    .bind(owner)
    .bind(first)
    .bind(to_micros(&now))
    .bind(serde_json::to_string(&payloads).unwrap_or_default())
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

#[async_trait::async_trait]
impl ChangeLogStore for SqliteStore {
    async fn events_after(
        &self,
        user: UserId,
        after: i64,
        limit: i64,
        max_bytes: usize,
    ) -> Result<ChangeLogPage, StoreError> {
        let mut tx = self.read().await?;
        let head = head_seq(&mut tx, user).await?;
        let first: Option<i64> =
            sqlx::query_scalar("SELECT min(seq) FROM event_log WHERE user_id = $1")
                .bind(user)
                .fetch_one(&mut *tx)
                .await?;
        // Sizes first (octet_length reads the stored length, not the payload), then only
        // the payloads that fit in max_bytes.
        let sizes: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT seq, octet_length(payload) FROM event_log \
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
            .bind(to_micros(&older_than))
            .execute(&mut *tx)
            .await?;
        let by_count = sqlx::query(
            "DELETE FROM event_log WHERE seq <= (SELECT s.seq FROM user_event_seq s              WHERE s.user_id = event_log.user_id) - $1",
        )
        .bind(keep_per_user)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(by_age.rows_affected() + by_count.rows_affected())
    }

    async fn log_epoch(&self) -> Result<String, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT epoch FROM log_epoch WHERE id = 1")
                .fetch_one(&self.reader)
                .await?,
        )
    }

    async fn new_log_epoch(&self) -> Result<String, StoreError> {
        Ok(sqlx::query_scalar(
            "UPDATE log_epoch SET epoch = lower(hex(randomblob(16))) WHERE id = 1 RETURNING epoch",
        )
        .fetch_one(&self.writer)
        .await?)
    }

    fn on_commit(&self, listener: CommitListener) {
        self.notifier.set(listener);
    }
}
