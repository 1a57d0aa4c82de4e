//! Chart aggregates on PostgreSQL: the SQL that groups a window's LogEvents by bucket; the
//! layout is [`crate::shared::aggregates`]. Read in one REPEATABLE READ snapshot, so the
//! jobs RUNNING now and the moves since the window's start agree.
//!
//! Repetition note: this file and its twin in the other backend have the same skeleton on
//! purpose; the statements differ in SQL and bound types, and what is the same is in
//! `shared/`.

use sqlx::Postgres;

crate::shared::aggregates::aggregate_store!(super::PostgresStore, sqlx::Postgres);

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

impl AggregateSql for Postgres {
    const THROUGHPUT: &'static str = THROUGHPUT_SQL;
    const MOVES: &'static str = MOVES_SQL;
    const BUSY_NOW: &'static str = BUSY_NOW_SQL;
    type Bucket = f64;

    fn bucket(seconds: i64) -> f64 {
        seconds as f64
    }
}
