//! Chart aggregates on PostgreSQL: the SQL that groups a window's LogEvents by bucket; the
//! layout is [`crate::shared::aggregates`]. Read in one REPEATABLE READ snapshot, so the
//! jobs RUNNING now and the moves since the window's start agree.

use super::{head_seq, PostgresStore};
use crate::shared::aggregates::{self, MovesRow};
use crate::shared::Backend as _;
use crate::shared::Dialect;
use crate::{AggregateStore, StoreError};
use balsam_types::aggregates::{AggregateWindow, Throughput, Utilization};
use balsam_types::{Id, UserId};
use chrono::{DateTime, Utc};
use sqlx::Postgres;

/// Finishes per (bucket, Site): the `(owner_id, to_state, timestamp, id)` index range of
/// the window, each event joined to its job by primary key for the Site.
pub(crate) const THROUGHPUT_SQL: &str =
    "SELECT floor(EXTRACT(EPOCH FROM (e.timestamp - $1))::float8 / $2)::int8 AS bucket, \
            j.site_id, count(*) \
     FROM log_events e JOIN jobs j ON j.id = e.job_id \
     WHERE e.owner_id = $3 AND e.to_state = 'JOB_FINISHED' \
       AND e.timestamp >= $1 AND e.timestamp < $4 \
     GROUP BY 1, 2";

/// Weighted moves into (+) and out of (−) RUNNING per bucket since the window's start,
/// each branch one `(owner_id, to_state|from_state, timestamp, id)` index range.
pub(crate) const MOVES_SQL: &str =
    "SELECT floor(m.s / $2)::int8 AS bucket, sum(m.w)::float8, sum(m.w * m.s)::float8 \
     FROM (SELECT EXTRACT(EPOCH FROM (e.timestamp - $1))::float8 AS s, \
                  j.num_nodes::float8 / greatest(1, j.node_packing_count) AS w \
             FROM log_events e JOIN jobs j ON j.id = e.job_id \
            WHERE e.owner_id = $3 AND e.to_state = 'RUNNING' AND e.from_state <> 'RUNNING' \
              AND e.timestamp >= $1 \
           UNION ALL \
           SELECT EXTRACT(EPOCH FROM (e.timestamp - $1))::float8, \
                  -(j.num_nodes::float8 / greatest(1, j.node_packing_count)) \
             FROM log_events e JOIN jobs j ON j.id = e.job_id \
            WHERE e.owner_id = $3 AND e.from_state = 'RUNNING' AND e.to_state <> 'RUNNING' \
              AND e.timestamp >= $1) m \
     GROUP BY 1";

/// Nodes busy now: the owner's RUNNING jobs (`jobs_owner_state_idx`).
pub(crate) const BUSY_NOW_SQL: &str =
    "SELECT COALESCE(sum(num_nodes::float8 / greatest(1, node_packing_count)), 0)::float8 \
     FROM jobs WHERE owner_id = $1 AND state = 'RUNNING'";

#[async_trait::async_trait]
impl AggregateStore for PostgresStore {
    async fn throughput(
        &self,
        owner: UserId,
        window: AggregateWindow,
        now: DateTime<Utc>,
    ) -> Result<Throughput, StoreError> {
        let span = window.span(now);
        let mut tx = self.read().await?;
        let seq = head_seq(&mut tx, owner).await?;
        let rows: Vec<(i64, Id, i64)> = sqlx::query_as(THROUGHPUT_SQL)
            .bind(<Postgres as Dialect>::time(&span.start))
            .bind(span.bucket_seconds as f64)
            .bind(owner)
            .bind(<Postgres as Dialect>::time(&span.end))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(aggregates::throughput(window, span, rows, seq))
    }

    async fn utilization(
        &self,
        owner: UserId,
        window: AggregateWindow,
        now: DateTime<Utc>,
    ) -> Result<Utilization, StoreError> {
        let span = window.span(now);
        let mut tx = self.read().await?;
        let seq = head_seq(&mut tx, owner).await?;
        let busy_now: f64 = sqlx::query_scalar(BUSY_NOW_SQL)
            .bind(owner)
            .fetch_one(&mut *tx)
            .await?;
        let rows: Vec<MovesRow> = sqlx::query_as(MOVES_SQL)
            .bind(<Postgres as Dialect>::time(&span.start))
            .bind(span.bucket_seconds as f64)
            .bind(owner)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(aggregates::utilization(window, span, busy_now, rows, seq))
    }
}
