//! Plan tests on SQLite: each hot query shape (`crate::plan_shapes`), built by the store's
//! own query builders, under `EXPLAIN QUERY PLAN` on a table of `JOBS` jobs (SQLite keeps
//! no statistics unless `ANALYZE` runs, which the store never does; checked again after
//! one). Every plan must search the intended index, never `SCAN` `jobs` or `log_events`,
//! and sort (`USE TEMP B-TREE FOR ORDER BY`) only where the shape allows a bounded sort
//! (the acquire's merge of its per-state branches, an id list).
//!
//! Repetition note: like `postgres/plan_tests.rs`, each test builds its own table and
//! asserts its own plan, spelled out so a failing plan reads on its own.

use super::job_queries::push_job_count;
use super::log_events::push_event_page;
use super::sessions::push_acquire_candidates;
use crate::plan_shapes::{cases, PlanCase, Shape, JOBS};
use crate::shared::jobs::JobSql;
use sqlx::{Connection, QueryBuilder, Sqlite, SqliteConnection};

const LOAD: &str = "
INSERT INTO users (id, username, created_at) VALUES (1, 'ann', 0), (2, 'bob', 0);
INSERT INTO sites (id, owner_id, name, path, last_refresh, creation_date)
    VALUES (1, 1, 's1', '/p', 0, 0), (2, 1, 's2', '/p', 0, 0), (3, 2, 'b1', '/p', 0, 0);
INSERT INTO apps (id, site_id, name, serialized_class, source_code)
    VALUES (1, 1, 'a1', '', ''), (2, 2, 'a2', '', ''), (3, 3, 'b', '', '');
INSERT INTO sessions (id, site_id, heartbeat) VALUES (1, 1, 0);
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $JOBS)
INSERT INTO jobs (owner_id, site_id, app_id, workdir, tags, state, last_update)
    SELECT 1, 1, 1, 'w/' || n, json_object('kind', CASE WHEN n % 2 = 0 THEN 'even' ELSE 'odd' END),
           CASE WHEN n % 10 < 7 THEN 'STAGED_IN' WHEN n % 10 < 9 THEN 'PREPROCESSED'
                ELSE 'JOB_FINISHED' END,
           1700000000000000 - n
    FROM g;
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1000)
INSERT INTO jobs (owner_id, site_id, app_id, workdir, state, last_update)
    SELECT 2, 3, 3, 'w/' || n, 'PREPROCESSED', 1700000000000000 FROM g;
INSERT INTO log_events (job_id, owner_id, timestamp, from_state, to_state)
    SELECT id, owner_id, last_update, 'CREATED', 'STAGED_IN' FROM jobs;
";

fn explain(case: &PlanCase) -> QueryBuilder<'static, Sqlite> {
    let mut b = QueryBuilder::new("EXPLAIN QUERY PLAN ");
    match &case.shape {
        Shape::JobPage(q, page) => sqlx::Sqlite::push_page(&mut b, case.owner, q, *page, false),
        Shape::JobCount(q) => push_job_count(&mut b, case.owner, q),
        Shape::EventPage(q, page) => push_event_page(&mut b, case.owner, q, *page),
        Shape::Acquire(spec) => push_acquire_candidates(&mut b, case.owner, 1, spec),
    }
    b
}

/// How SQLite names the index in a plan line.
fn sqlite_index(name: &str) -> String {
    if name == "jobs_pkey" {
        "INTEGER PRIMARY KEY".into()
    } else {
        format!("INDEX {name}")
    }
}

async fn check(conn: &mut SqliteConnection, case: &PlanCase, when: &str) -> Result<(), String> {
    let rows: Vec<(i64, i64, i64, String)> = explain(case)
        .build_query_as()
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| format!("{}: {e}", case.name))?;
    let lines: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
    let fail = |why: String| Err(format!("{} ({when}): {why}\nplan: {lines:#?}", case.name));
    // The LogEvent queries alias the table `e`.
    let tables = ["jobs", "log_events", "e"];
    if let Some(line) = lines
        .iter()
        .find(|l| tables.iter().any(|t| l.starts_with(&format!("SCAN {t}"))))
    {
        return fail(format!("scans a table: {line}"));
    }
    if case.index.is_empty() {
        if lines
            .iter()
            .any(|l| l.contains(" jobs ") || l.ends_with(" jobs"))
        {
            return fail("reads jobs".into());
        }
    } else if !lines.iter().any(|l| {
        case.index.iter().any(|i| {
            l.contains(&format!("USING {}", sqlite_index(i)))
                || l.contains(&format!("USING COVERING {}", sqlite_index(i)))
        })
    }) {
        return fail(format!("reads none of {:?}", case.index));
    }
    if case.max_sorted == 0 && lines.iter().any(|l| l.contains("USE TEMP B-TREE")) {
        return fail("sorts".into());
    }
    Ok(())
}

#[tokio::test]
async fn hot_queries_search_their_index_with_and_without_statistics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("plans.db").display());
    let store = super::SqliteStore::connect(&url, 2).await.expect("open");
    crate::Store::migrate(&store).await.expect("migrate");
    drop(store);
    let mut conn = SqliteConnection::connect(&url).await.expect("connect");
    sqlx::raw_sql(&LOAD.replace("$JOBS", &JOBS.to_string()))
        .execute(&mut conn)
        .await
        .expect("bulk load");
    let mut failures = Vec::new();
    for (when, analyze) in [("no statistics", false), ("after ANALYZE", true)] {
        if analyze {
            sqlx::raw_sql("ANALYZE")
                .execute(&mut conn)
                .await
                .expect("analyze");
        }
        for case in cases() {
            if let Err(e) = check(&mut conn, &case, when).await {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
