//! LogEvent listing, on both backends: the SQL differs only in how timestamps are bound
//! and in the tag filters ([`Dialect::push_tag_filters`]).
//!
//! Repetition note: each resource's listing, read, create and delete have the same shape on
//! purpose; the shared steps are `paged!`, `get_owned!`, `lock_owned!` and `commit_one`
//! (`shared/mod.rs`), and what repeats is each call with that resource's SQL.

use super::Dialect;
use balsam_types::LogEvent;
use serde_json::{Map, Value};
use sqlx::types::Json;

/// A `log_events` row as read back: `id, job_id, timestamp, from_state, to_state, data`
/// (the listing and `insert_log_events … RETURNING` select these columns in this order).
pub(crate) type EventRow<DB> = (
    i64,
    i64,
    <DB as Dialect>::Time,
    String,
    String,
    Json<Map<String, Value>>,
);

/// The LogEvent of an [`EventRow`].
pub(crate) fn log_event<DB: Dialect>(row: EventRow<DB>) -> LogEvent {
    let (id, job_id, ts, from_state, to_state, data) = row;
    LogEvent {
        id,
        job_id,
        timestamp: DB::from_time(ts),
        from_state,
        to_state,
        data: data.0,
    }
}

/// `impl LogEventStore for $store`, where `$db` is the store's `sqlx::Database`.
macro_rules! log_event_store {
    ($store:ty, $db:ty) => {
        use crate::shared::log_events::{log_event, EventRow};
        use crate::shared::push_id_list;
        use crate::shared::{Backend as _, Dialect};
        use crate::{LogEventStore, StoreError};
        use balsam_types::{EventQuery, LogEvent, Page, Paginated, UserId};
        use sqlx::QueryBuilder;

        type Db = $db;

        pub(crate) fn push_event_filters(
            b: &mut QueryBuilder<'_, Db>,
            owner: UserId,
            q: &EventQuery,
        ) {
            // Events carry their owner (migration 0004): join the jobs only for the job filters.
            let batch_job = q.batch_job_id.filter(|&b| b != 0);
            let scheduler = q.scheduler_id.filter(|&s| s != 0);
            let by_job = batch_job.is_some() || scheduler.is_some() || !q.tags.is_empty();
            b.push(if by_job {
                " FROM log_events e JOIN jobs ON jobs.id = e.job_id WHERE e.owner_id = "
            } else {
                " FROM log_events e WHERE e.owner_id = "
            })
            .push_bind(owner);
            if !q.ids.is_empty() {
                b.push(" AND e.id IN (");
                push_id_list(b, &q.ids);
            }
            if !q.job_ids.is_empty() {
                b.push(" AND e.job_id IN (");
                push_id_list(b, &q.job_ids);
            }
            if let Some(bj) = batch_job {
                b.push(" AND jobs.batch_job_id = ").push_bind(bj);
            }
            if let Some(sched) = scheduler {
                b.push(
                    " AND jobs.batch_job_id IN (SELECT id FROM batch_jobs WHERE scheduler_id = ",
                )
                .push_bind(sched)
                .push(")");
            }
            <Db as Dialect>::push_tag_filters(b, "jobs.tags", &q.tags);
            <Db as Dialect>::push_tag_filters(b, "e.data", &q.data);
            if let Some(t) = &q.timestamp_before {
                b.push(" AND e.timestamp <= ").push_bind(Db::time(t));
            }
            if let Some(t) = &q.timestamp_after {
                b.push(" AND e.timestamp >= ").push_bind(Db::time(t));
            }
            if let Some(s) = &q.from_state {
                b.push(" AND e.from_state = ").push_bind(s.clone());
            }
            if let Some(s) = &q.to_state {
                b.push(" AND e.to_state = ").push_bind(s.clone());
            }
        }

        /// Whether an owner-led `(…, timestamp, id)` index reads this page in order: no
        /// id lists (a job's own events: its index and a small sort are best) and no
        /// filters on the job or the event's data.
        pub(crate) fn page_in_index_order(q: &EventQuery) -> bool {
            q.ids.is_empty()
                && q.job_ids.is_empty()
                && q.batch_job_id.filter(|&b| b != 0).is_none()
                && q.scheduler_id.filter(|&s| s != 0).is_none()
                && q.tags.is_empty()
                && q.data.is_empty()
        }

        /// One page of LogEvents: by timestamp, ties by ascending id in both directions
        /// (the spec; a bulk change's events share a timestamp). The owner-led
        /// `(…, timestamp, id)` indexes give the order forwards, and backwards up to the
        /// ties, which PostgreSQL sorts incrementally (a tie group, never every event).
        pub(crate) fn push_event_page(
            b: &mut QueryBuilder<'_, Db>,
            owner: UserId,
            q: &EventQuery,
            page: Page,
        ) {
            b.push("SELECT e.id, e.job_id, e.timestamp, e.from_state, e.to_state, e.data");
            push_event_filters(b, owner, q);
            b.push(if q.newest_first {
                " ORDER BY e.timestamp DESC, e.id ASC"
            } else {
                " ORDER BY e.timestamp ASC, e.id ASC"
            });
            b.push(" LIMIT ")
                .push_bind(page.limit)
                .push(" OFFSET ")
                .push_bind(page.offset);
        }

        #[async_trait::async_trait]
        impl LogEventStore for $store {
            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn list_events(
                &self,
                owner: UserId,
                q: &EventQuery,
                page: Page,
            ) -> Result<Paginated<LogEvent>, StoreError> {
                let mut tx = self.read().await?;
                let seq = crate::shared::head_seq!(&mut *tx, owner);
                let mut count = QueryBuilder::new("SELECT count(*)");
                push_event_filters(&mut count, owner, q);
                let count: i64 = count.build_query_scalar().fetch_one(&mut *tx).await?;
                if let Some(sql) =
                    <Db as Dialect>::PRICE_OUT_SORT.filter(|_| page_in_index_order(q))
                {
                    sqlx::query(sql).execute(&mut *tx).await?;
                }
                let mut rows = QueryBuilder::new("");
                push_event_page(&mut rows, owner, q, page);
                let results: Vec<EventRow<Db>> = rows.build_query_as().fetch_all(&mut *tx).await?;
                tx.commit().await?;
                Ok(Paginated {
                    count,
                    results: results.into_iter().map(log_event::<Db>).collect(),
                    seq,
                })
            }
        }
    };
}
pub(crate) use log_event_store;
