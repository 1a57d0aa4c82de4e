//! Chart aggregates on SQLite (timestamps are integer microseconds): the SQL that groups a
//! window's LogEvents by bucket; the layout is [`crate::shared::aggregates`].
//!
//! Repetition note: this file and its twin in the other backend have the same skeleton on
//! purpose; the statements differ in SQL and bound types, and what is the same is in
//! `shared/`.

use sqlx::Sqlite;

crate::shared::aggregates::aggregate_store!(super::SqliteStore, sqlx::Sqlite);

/// Finishes per (bucket, Site): the `(owner_id, to_state, timestamp)` index range of the
/// window, each event joined to its job by primary key for the Site.
pub(crate) const THROUGHPUT_SQL: &str =
    "SELECT (e.timestamp - $1) / $2 AS bucket, j.site_id, count(*) \
     FROM log_events e JOIN jobs j ON j.id = e.job_id \
     WHERE e.owner_id = $3 AND e.to_state = 'JOB_FINISHED' \
       AND e.timestamp >= $1 AND e.timestamp < $4 \
     GROUP BY bucket, j.site_id";

/// Weighted moves into (+) and out of (−) RUNNING per bucket since the window's start,
/// each branch one `(owner_id, to_state|from_state, timestamp)` index range.
pub(crate) const MOVES_SQL: &str =
    "SELECT (m.ts - $1) / $2 AS bucket, sum(m.w), sum(m.w * (m.ts - $1)) / 1000000.0 \
     FROM (SELECT e.timestamp AS ts, CAST(j.num_nodes AS REAL) / max(1, j.node_packing_count) AS w \
             FROM log_events e JOIN jobs j ON j.id = e.job_id \
            WHERE e.owner_id = $3 AND e.to_state = 'RUNNING' AND e.from_state <> 'RUNNING' \
              AND e.timestamp >= $1 \
           UNION ALL \
           SELECT e.timestamp, -CAST(j.num_nodes AS REAL) / max(1, j.node_packing_count) \
             FROM log_events e JOIN jobs j ON j.id = e.job_id \
            WHERE e.owner_id = $3 AND e.from_state = 'RUNNING' AND e.to_state <> 'RUNNING' \
              AND e.timestamp >= $1) m \
     GROUP BY bucket";

/// Nodes busy now: the owner's RUNNING jobs (`jobs_owner_state_idx`).
pub(crate) const BUSY_NOW_SQL: &str =
    "SELECT COALESCE(sum(CAST(num_nodes AS REAL) / max(1, node_packing_count)), 0.0) \
     FROM jobs WHERE owner_id = $1 AND state = 'RUNNING'";

impl AggregateSql for Sqlite {
    const THROUGHPUT: &'static str = THROUGHPUT_SQL;
    const MOVES: &'static str = MOVES_SQL;
    const BUSY_NOW: &'static str = BUSY_NOW_SQL;
    type Bucket = i64;

    fn bucket(seconds: i64) -> i64 {
        seconds * 1_000_000
    }
}

/// The aggregate queries read index ranges (never `SCAN log_events` or `jobs`), with and
/// without statistics, on a table where a scan would be the cheaper guess for a planner
/// that had none.
#[cfg(test)]
mod plan_tests {
    use super::{BUSY_NOW_SQL, MOVES_SQL, THROUGHPUT_SQL};
    use sqlx::{Connection, SqliteConnection};

    const LOAD: &str = "
INSERT INTO users (id, username, created_at) VALUES (1, 'ann', 0);
INSERT INTO sites (id, owner_id, name, path, last_refresh, creation_date)
    VALUES (1, 1, 's1', '/p', 0, 0);
INSERT INTO apps (id, site_id, name, serialized_class, source_code) VALUES (1, 1, 'a1', '', '');
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20000)
INSERT INTO jobs (owner_id, site_id, app_id, workdir, state, last_update)
    SELECT 1, 1, 1, 'w/' || n, CASE WHEN n % 10 = 0 THEN 'RUNNING' ELSE 'JOB_FINISHED' END, n
    FROM g;
INSERT INTO log_events (job_id, owner_id, timestamp, from_state, to_state)
    SELECT id, owner_id, last_update, 'PREPROCESSED', 'RUNNING' FROM jobs;
INSERT INTO log_events (job_id, owner_id, timestamp, from_state, to_state)
    SELECT id, owner_id, last_update + 5, 'RUNNING', 'RUN_DONE' FROM jobs WHERE state <> 'RUNNING';
INSERT INTO log_events (job_id, owner_id, timestamp, from_state, to_state)
    SELECT id, owner_id, last_update + 6, 'RUN_DONE', 'JOB_FINISHED' FROM jobs WHERE state <> 'RUNNING';
";

    async fn plan(conn: &mut SqliteConnection, sql: &str, binds: usize) -> String {
        let sql = format!("EXPLAIN QUERY PLAN {sql}");
        let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(&sql);
        for _ in 0..binds {
            q = q.bind(1_i64);
        }
        let rows = q.fetch_all(&mut *conn).await.expect("explain");
        rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
    }

    #[tokio::test]
    async fn aggregates_read_index_ranges_with_and_without_statistics() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("plans.db").display());
        let store = crate::sqlite::SqliteStore::connect(&url, 2)
            .await
            .expect("open");
        crate::Store::migrate(&store).await.expect("migrate");
        let mut conn = SqliteConnection::connect(&url).await.expect("connect");
        sqlx::raw_sql(LOAD).execute(&mut conn).await.expect("load");
        for when in ["without statistics", "after ANALYZE"] {
            let throughput = plan(&mut conn, THROUGHPUT_SQL, 4).await;
            assert!(
                throughput.contains("INDEX log_events_owner_to_state_idx")
                    && throughput.contains("INTEGER PRIMARY KEY"),
                "{when}: {throughput}"
            );
            let moves = plan(&mut conn, MOVES_SQL, 3).await;
            assert!(
                moves.contains("INDEX log_events_owner_to_state_idx")
                    && moves.contains("INDEX log_events_owner_from_state_idx"),
                "{when}: {moves}"
            );
            let busy = plan(&mut conn, BUSY_NOW_SQL, 1).await;
            assert!(
                busy.contains("INDEX jobs_owner_state_idx"),
                "{when}: {busy}"
            );
            for p in [&throughput, &moves, &busy] {
                assert!(
                    !p.contains("SCAN e") && !p.contains("SCAN j") && !p.contains("SCAN jobs"),
                    "{when}: {p}"
                );
            }
            sqlx::query("ANALYZE")
                .execute(&mut conn)
                .await
                .expect("analyze");
        }
        conn.close().await.expect("close");
        crate::Store::close(&store).await;
    }
}
