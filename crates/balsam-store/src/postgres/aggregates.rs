//! Chart aggregates on PostgreSQL: the statements that differ from SQLite's; the reads of
//! the per-minute rollup and the layout are [`crate::shared::aggregates`]. Read in one
//! REPEATABLE READ snapshot, so the jobs RUNNING now and the moves since the window's
//! start agree.
//!
//! Repetition note: this file and its twin in the other backend have the same skeleton on
//! purpose; the statements differ in SQL and bound types, and what is the same is in
//! `shared/`.

use crate::shared::aggregates::Rollup;
use sqlx::{PgConnection, Postgres};

crate::shared::aggregates::aggregate_store!(super::PostgresStore);

/// Adds one write's chart events to the rollup, in the writer's shard; each job (for its
/// Site and node weight) read by primary key. Rows are upserted in key order, so two
/// writers in one shard cannot deadlock.
pub(crate) const ROLLUP_SQL: &str = "INSERT INTO log_event_minutes AS m \
        (owner_id, minute, site_id, shard, finished, moved, moved_s) \
     SELECT $1, x.mn, j.site_id, pg_backend_pid() % 16, sum(x.f), sum(x.sg * w.w), \
            sum(x.sg * w.w * x.s) \
     FROM unnest($2::int8[], $3::int8[], $4::float8[], $5::int8[], $6::float8[]) \
            AS x(job, mn, s, f, sg) \
     JOIN jobs j ON j.id = x.job \
     CROSS JOIN LATERAL (SELECT j.num_nodes::float8 / greatest(1, j.node_packing_count) AS w) w \
     GROUP BY x.mn, j.site_id ORDER BY x.mn, j.site_id \
     ON CONFLICT (owner_id, minute, site_id, shard) DO UPDATE SET \
        finished = m.finished + EXCLUDED.finished, moved = m.moved + EXCLUDED.moved, \
        moved_s = m.moved_s + EXCLUDED.moved_s";

/// [`AggregateSql::UNROLL`]: the deleted jobs' chart events, read through
/// `log_events_job_idx`, subtracted in the writer's shard.
const UNROLL_SQL: &str = "INSERT INTO log_event_minutes AS m \
        (owner_id, minute, site_id, shard, finished, moved, moved_s) \
     SELECT e.owner_id, x.minute, j.site_id, pg_backend_pid() % 16, \
            -count(*) FILTER (WHERE e.to_state = 'JOB_FINISHED'), \
            -sum(x.sign * w.w), -sum(x.sign * w.w * (x.epoch - x.minute * 60)) \
     FROM jobs j JOIN log_events e ON e.job_id = j.id AND j.owner_id = e.owner_id \
     CROSS JOIN LATERAL (SELECT j.num_nodes::float8 / greatest(1, j.node_packing_count) AS w) w \
     CROSS JOIN LATERAL (SELECT EXTRACT(EPOCH FROM e.timestamp)::float8 AS epoch, \
            floor(EXTRACT(EPOCH FROM e.timestamp)::float8 / 60)::int8 AS minute, \
            CASE WHEN e.to_state = 'RUNNING' AND e.from_state <> 'RUNNING' THEN 1 \
                 WHEN e.from_state = 'RUNNING' AND e.to_state <> 'RUNNING' THEN -1 \
                 ELSE 0 END AS sign) x \
     WHERE e.job_id = ANY($1) AND j.id = ANY($1) \
       AND (e.to_state IN ('JOB_FINISHED', 'RUNNING') OR e.from_state = 'RUNNING') \
     GROUP BY e.owner_id, x.minute, j.site_id ORDER BY x.minute, j.site_id \
     ON CONFLICT (owner_id, minute, site_id, shard) DO UPDATE SET \
        finished = m.finished + EXCLUDED.finished, moved = m.moved + EXCLUDED.moved, \
        moved_s = m.moved_s + EXCLUDED.moved_s";

/// Adds `rollup` (one write's chart events, inserted as LogEvents in this transaction)
/// to the owner's per-minute rollup.
pub(crate) async fn roll_up(
    conn: &mut PgConnection,
    owner: balsam_types::UserId,
    rollup: &Rollup,
) -> Result<(), crate::StoreError> {
    if rollup.is_empty() {
        return Ok(());
    }
    sqlx::query(ROLLUP_SQL)
        .bind(owner)
        .bind(&rollup.job_ids)
        .bind(&rollup.minutes)
        .bind(&rollup.seconds)
        .bind(&rollup.finished)
        .bind(&rollup.signs)
        .execute(conn)
        .await?;
    Ok(())
}

impl AggregateSql for Postgres {
    const UNROLL: &'static str = UNROLL_SQL;
}
