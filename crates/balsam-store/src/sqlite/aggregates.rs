//! Chart aggregates on SQLite (timestamps are integer microseconds): the SQL that groups a
//! window's LogEvents by bucket; the layout is [`crate::shared::aggregates`].
//!
//! Repetition note: this file and its twin in the other backend have the same skeleton on
//! purpose; the statements differ in SQL and bound types, and what is the same is in
//! `shared/`.

use crate::shared::aggregates::Rollup;
use sqlx::{Sqlite, SqliteConnection};

crate::shared::aggregates::aggregate_store!(super::SqliteStore);

/// Adds one write's chart events (`$2`: `[[job, minute, seconds, finished, sign], …]`)
/// to the rollup; each job (for its Site and node weight) read by primary key. One writer
/// at a time on SQLite: one shard.
const ROLLUP_SQL: &str = "INSERT INTO log_event_minutes \
        (owner_id, minute, site_id, shard, finished, moved, moved_s) \
     SELECT $1, mn, site_id, 0, sum(f), sum(sg * w), sum(sg * w * s) \
     FROM (SELECT x.mn, j.site_id, x.f, x.sg, x.s, \
                  CAST(j.num_nodes AS REAL) / max(1, j.node_packing_count) AS w \
           FROM (SELECT value ->> 0 AS job, value ->> 1 AS mn, value ->> 2 AS s, \
                        value ->> 3 AS f, value ->> 4 AS sg FROM json_each($2)) AS x \
           JOIN jobs j ON j.id = x.job) \
     WHERE true GROUP BY mn, site_id \
     ON CONFLICT (owner_id, minute, site_id, shard) DO UPDATE SET \
        finished = finished + excluded.finished, moved = moved + excluded.moved, \
        moved_s = moved_s + excluded.moved_s";

/// [`AggregateSql::UNROLL`]: the deleted jobs' chart events, read through
/// `log_events_job_idx`, subtracted.
const UNROLL_SQL: &str = "INSERT INTO log_event_minutes \
        (owner_id, minute, site_id, shard, finished, moved, moved_s) \
     SELECT owner_id, minute, site_id, 0, -sum(to_state = 'JOB_FINISHED'), -sum(sign * w), \
            -sum(sign * w * (ts - minute * 60000000) / 1000000.0) \
     FROM (SELECT e.owner_id, e.to_state, e.timestamp AS ts, j.site_id, \
                  (e.timestamp - (((e.timestamp % 60000000) + 60000000) % 60000000)) / 60000000 \
                      AS minute, \
                  CAST(j.num_nodes AS REAL) / max(1, j.node_packing_count) AS w, \
                  CASE WHEN e.to_state = 'RUNNING' AND e.from_state <> 'RUNNING' THEN 1 \
                       WHEN e.from_state = 'RUNNING' AND e.to_state <> 'RUNNING' THEN -1 \
                       ELSE 0 END AS sign \
           FROM jobs j JOIN log_events e ON e.job_id = j.id \
           WHERE e.job_id IN (SELECT value FROM json_each($1)) \
             AND (e.to_state IN ('JOB_FINISHED', 'RUNNING') OR e.from_state = 'RUNNING')) \
     WHERE true GROUP BY owner_id, minute, site_id \
     ON CONFLICT (owner_id, minute, site_id, shard) DO UPDATE SET \
        finished = finished + excluded.finished, moved = moved + excluded.moved, \
        moved_s = moved_s + excluded.moved_s";

/// Adds `rollup` (one write's chart events, inserted as LogEvents in this transaction)
/// to the owner's per-minute rollup.
pub(crate) async fn roll_up(
    conn: &mut SqliteConnection,
    owner: balsam_types::UserId,
    rollup: &Rollup,
) -> Result<(), crate::StoreError> {
    if rollup.is_empty() {
        return Ok(());
    }
    sqlx::query(ROLLUP_SQL)
        .bind(owner)
        .bind(rollup.document().to_string())
        .execute(conn)
        .await?;
    Ok(())
}

impl AggregateSql for Sqlite {
    const UNROLL: &'static str = UNROLL_SQL;
}

/// The aggregate queries read primary-key ranges (never `SCAN log_event_minutes`,
/// `log_events`, `jobs` or the counters), with and without statistics; the rollup's writes read jobs and
/// LogEvents by key.
#[cfg(test)]
mod plan_tests {
    use super::{ROLLUP_SQL, UNROLL_SQL};
    use crate::shared::aggregates::{BUSY_NOW_SQL, MOVES_SQL, THROUGHPUT_SQL};
    use sqlx::{Connection, SqliteConnection};

    const LOAD: &str = "
INSERT INTO users (id, username, created_at) VALUES (1, 'ann', 0), (2, 'bob', 0);
INSERT INTO sites (id, owner_id, name, path, last_refresh, creation_date)
    VALUES (1, 1, 's1', '/p', 0, 0), (2, 2, 's2', '/p', 0, 0);
INSERT INTO apps (id, site_id, name, serialized_class, source_code) VALUES (1, 1, 'a1', '', '');
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20000)
INSERT INTO jobs (owner_id, site_id, app_id, workdir, state, last_update)
    SELECT 1, 1, 1, 'w/' || n, CASE WHEN n % 10 = 0 THEN 'RUNNING' ELSE 'JOB_FINISHED' END, n
    FROM g;
INSERT INTO log_events (job_id, owner_id, timestamp, from_state, to_state)
    SELECT id, owner_id, last_update, 'PREPROCESSED', 'RUNNING' FROM jobs;
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20000)
INSERT INTO log_event_minutes (owner_id, minute, site_id, shard, finished, moved, moved_s)
    SELECT 1 + n % 2, n, 1 + n % 2, 0, 3, 1.5, 20.0 FROM g;
";

    async fn plan(conn: &mut SqliteConnection, sql: &str, binds: usize) -> String {
        let sql = format!("EXPLAIN QUERY PLAN {sql}");
        let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(&sql);
        for i in 0..binds {
            q = if i == 1 && binds == 2 {
                q.bind("[1, 2, 3]") // the id list or the rollup document
            } else {
                q.bind(1_i64)
            };
        }
        let rows = q.fetch_all(&mut *conn).await.expect("explain");
        rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
    }

    #[tokio::test]
    async fn aggregates_read_key_ranges_with_and_without_statistics() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("plans.db").display());
        let store = crate::sqlite::SqliteStore::connect(&url, 2)
            .await
            .expect("open");
        crate::Store::migrate(&store).await.expect("migrate");
        let mut conn = SqliteConnection::connect(&url).await.expect("connect");
        sqlx::raw_sql(LOAD).execute(&mut conn).await.expect("load");
        for when in ["without statistics", "after ANALYZE"] {
            for (sql, binds) in [(THROUGHPUT_SQL, 4), (MOVES_SQL, 3)] {
                let p = plan(&mut conn, sql, binds).await;
                assert!(
                    p.contains(
                        "SEARCH log_event_minutes USING PRIMARY KEY (owner_id=? AND minute>?"
                    ),
                    "{when}: {p}"
                );
            }
            let busy = plan(&mut conn, BUSY_NOW_SQL, 1).await;
            assert!(
                busy.contains("SEARCH c USING PRIMARY KEY (site_id=? AND state=?)"),
                "{when}: {busy}"
            );
            let rollup = plan(&mut conn, ROLLUP_SQL, 2).await;
            assert!(
                rollup.contains("SEARCH j USING INTEGER PRIMARY KEY"),
                "{when}: {rollup}"
            );
            let unroll = plan(&mut conn, &UNROLL_SQL.replace("$1", "'[1, 2]'"), 0).await;
            assert!(
                unroll.contains("SEARCH j USING INTEGER PRIMARY KEY")
                    && unroll.contains("SEARCH e USING INDEX log_events_job_idx"),
                "{when}: {unroll}"
            );
            for p in [&busy, &rollup, &unroll] {
                // Only the bound id list or document is scanned.
                assert!(
                    p.lines()
                        .all(|l| !l.starts_with("SCAN ") || l.starts_with("SCAN json_each")),
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
