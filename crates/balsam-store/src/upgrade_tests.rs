//! Upgrades: rows written under an older schema read correctly after the later migrations.
//!
//! Each test applies the migrations up to a version by hand, writes rows with that
//! version's SQL, then lets the store migrate the rest (as `balsam-server migrate` does on
//! an existing database) and reads through the store.
//!
//! Repetition note: each upgrade story migrates and checks its own database, step by step;
//! the steps are spelled out so a failing upgrade reads on its own.

use std::sync::Arc;

use balsam_types::{EventQuery, Page};
use sqlx::migrate::{Migrate, Migrator};
use sqlx::Connection;

use crate::Store;

/// Applies `migrator`'s migrations up to and including `version` on `conn`.
pub(crate) async fn migrate_to<C: Migrate>(conn: &mut C, migrator: &Migrator, version: i64) {
    conn.ensure_migrations_table()
        .await
        .expect("migrations table");
    for migration in migrator.iter().filter(|m| m.version <= version) {
        conn.apply(migration).await.expect("apply migration");
    }
}

/// A fresh PostgreSQL database for one test, dropped by [`ScratchPg::drop`]; `None` (the
/// test skips) when `BALSAM_TEST_POSTGRES_URL` is unset and PostgreSQL is not required.
pub(crate) struct ScratchPg {
    admin: sqlx::PgConnection,
    name: String,
    pub url: String,
}

impl ScratchPg {
    pub(crate) async fn create(prefix: &str) -> Option<Self> {
        let Ok(base) = std::env::var("BALSAM_TEST_POSTGRES_URL") else {
            assert!(
                std::env::var("BALSAM_TEST_REQUIRE_POSTGRES").is_err(),
                "BALSAM_TEST_REQUIRE_POSTGRES is set but BALSAM_TEST_POSTGRES_URL is not"
            );
            eprintln!("skipping PostgreSQL: BALSAM_TEST_POSTGRES_URL is not set");
            return None;
        };
        let base = base.trim_end_matches('/');
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&format!("{base}/postgres"))
            .await
            .expect("PostgreSQL reachable");
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create database");
        let url = format!("{base}/{name}");
        Some(Self { admin, name, url })
    }

    pub(crate) async fn drop(mut self) {
        sqlx::raw_sql(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .execute(&mut self.admin)
            .await
            .expect("drop database");
    }
}

/// Two users with one job each and two LogEvents per job, in version 3's schema (no
/// `log_events.owner_id`). `$T` stands for the backend's timestamp literal.
const V3_ROWS: &str = "\
INSERT INTO users (id, username, created_at) VALUES (1, 'ann', $T), (2, 'bob', $T);
INSERT INTO sites (id, owner_id, name, path, last_refresh, creation_date)
    VALUES (1, 1, 'a', '/a', $T, $T), (2, 2, 'b', '/b', $T, $T);
INSERT INTO apps (id, site_id, name, serialized_class, source_code)
    VALUES (1, 1, 'A', 'x', 'x'), (2, 2, 'B', 'x', 'x');
INSERT INTO jobs (id, owner_id, site_id, app_id, workdir, tags, state, last_update)
    VALUES (1, 1, 1, 1, 'w1', '{\"kind\": \"a\"}', 'RUNNING', $T),
           (2, 2, 2, 2, 'w2', '{\"kind\": \"a\"}', 'JOB_FINISHED', $T);
INSERT INTO log_events (job_id, timestamp, from_state, to_state)
    VALUES (1, $T, 'CREATED', 'READY'), (1, $T, 'READY', 'RUNNING'),
           (2, $T, 'CREATED', 'READY'), (2, $T, 'RUN_DONE', 'JOB_FINISHED');
";

/// After migration 4 each user lists exactly their own events, by state too.
async fn events_keep_their_owner(store: Arc<dyn Store>) {
    let list = |owner, to_state: Option<&str>| {
        let store = store.clone();
        let query = EventQuery {
            to_state: to_state.map(str::to_owned),
            ..EventQuery::default()
        };
        async move {
            let page = store
                .list_events(owner, &query, Page::default())
                .await
                .expect("list events");
            let mut got: Vec<(i64, String)> = page
                .results
                .into_iter()
                .map(|e| (e.job_id, e.to_state))
                .collect();
            got.sort();
            assert_eq!(page.count, got.len() as i64);
            got
        }
    };
    let pair = |job: i64, state: &str| (job, state.to_owned());
    assert_eq!(list(1, None).await, [pair(1, "READY"), pair(1, "RUNNING")]);
    assert_eq!(
        list(2, None).await,
        [pair(2, "JOB_FINISHED"), pair(2, "READY")]
    );
    assert_eq!(list(1, Some("JOB_FINISHED")).await, []);
    assert_eq!(
        list(2, Some("JOB_FINISHED")).await,
        [pair(2, "JOB_FINISHED")]
    );
    assert_eq!(list(3, None).await, []);
}

/// After migration 9 the charts' rollup holds the older events (bob's finish and ann's
/// job RUNNING since 22:13:20), and after migration 10 the per-tag counts their tags.
async fn charts_count_the_older_events(store: Arc<dyn Store>) {
    use balsam_types::aggregates::AggregateWindow;
    let now = chrono::DateTime::from_timestamp(1_700_000_000 + 600, 0).expect("time");
    let finished = |owner| {
        let store = store.clone();
        async move {
            store
                .throughput(owner, AggregateWindow::Hour, now)
                .await
                .expect("throughput")
                .total
        }
    };
    assert_eq!(finished(1).await, 0);
    assert_eq!(finished(2).await, 1);
    let u = store
        .utilization(1, AggregateWindow::Hour, now)
        .await
        .expect("utilization");
    assert_eq!(u.busy_now, 1.0);
    assert_eq!(u.busy_start[0], 0.0);
    assert_eq!(u.busy_start[50], 1.0); // 22:14

    // Migration 10 counts the older jobs' tags, per owner.
    let q = balsam_types::JobQuery {
        tags: vec![("kind".into(), "a".into())],
        ..Default::default()
    };
    let count = Page {
        limit: 0,
        offset: 0,
    };
    for owner in [1, 2] {
        let listed = store.list_jobs(owner, &q, count).await.expect("count");
        assert_eq!(listed.count, 1, "owner {owner}");
    }
}

#[tokio::test]
async fn sqlite_log_events_gain_their_owner_in_migration_4() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&format!("{url}?mode=rwc"))
        .await
        .expect("open sqlite");
    migrate_to(&mut conn, &crate::sqlite::MIGRATOR, 3).await;
    sqlx::raw_sql(&V3_ROWS.replace("$T", "1700000000000000"))
        .execute(&mut conn)
        .await
        .expect("version 3 rows");
    conn.close().await.expect("close");

    let store = crate::connect(&url, 2).await.expect("open store");
    store
        .migrate()
        .await
        .expect("migrate to the latest version");
    events_keep_their_owner(store.clone()).await;
    charts_count_the_older_events(store).await;
}

#[tokio::test]
async fn postgres_log_events_gain_their_owner_in_migration_4() {
    let Some(db) = ScratchPg::create("balsam_upgrade").await else {
        return;
    };
    let url = db.url.clone();

    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
    migrate_to(&mut conn, &crate::postgres::MIGRATOR, 3).await;
    let rows = V3_ROWS.replace("$T", "TIMESTAMP '2023-11-14 22:13:20'")
        // Explicit ids leave the sequences behind; move them on as a real history would.
        + "SELECT setval('users_id_seq', 2), setval('sites_id_seq', 2), \
                  setval('apps_id_seq', 2), setval('jobs_id_seq', 2);";
    sqlx::raw_sql(&rows)
        .execute(&mut conn)
        .await
        .expect("version 3 rows");
    conn.close().await.expect("close");

    let store = crate::connect(&url, 2).await.expect("open store");
    store
        .migrate()
        .await
        .expect("migrate to the latest version");
    events_keep_their_owner(store.clone()).await;
    charts_count_the_older_events(store.clone()).await;
    drop(store);

    db.drop().await;
}
