//! The per-tag counters (`job_tag_counts`, migrations 0010 and 0012) stay exact and keep
//! no row for a pair no job carries any more: deletes and retags drop the rows they empty,
//! also when the pair's count is spread over several writer shards (PostgreSQL).
//!
//! Repetition note: the story runs once per backend through the store, and reads the
//! table itself with that backend's connection; the two entry points differ only in how
//! they open the database.

use std::sync::Arc;

use balsam_types::{AppCreate, JobCreate, JobPatch, JobQuery, SiteCreate, UserId};
use serde_json::json;
use sqlx::Connection;

use crate::upgrade_tests::ScratchPg;
use crate::{JobUpdate, Store};

/// `(key, value, sum of count, rows)` per pair of `owner`, in key order.
type Pairs = Vec<(String, String, i64, i64)>;

const PAIRS_SQL: &str = "SELECT key, value, CAST(sum(count) AS BIGINT), CAST(count(*) AS BIGINT) \
     FROM job_tag_counts WHERE owner_id = $1 GROUP BY key, value ORDER BY key, value";

async fn world(store: &dyn Store) -> (UserId, i64) {
    let owner = store
        .create_user(&format!("tags-{}", uuid::Uuid::new_v4().simple()), "hash")
        .await
        .expect("user")
        .id;
    let site = SiteCreate::from_json(&json!({"name": "s", "path": "/s"})).expect("site");
    let site = store.create_site(owner, &site).await.expect("site");
    let app = AppCreate::from_json(
        &json!({"site_id": site.id, "name": "App", "serialized_class": "x", "source_code": "y"}),
    )
    .expect("app");
    (owner, store.create_app(owner, &app).await.expect("app").id)
}

/// Creates 30 jobs, each with its own `run` tag and a shared `kind`, and returns their ids.
async fn create(store: &dyn Store, owner: UserId, app: i64, from: usize) -> Vec<i64> {
    let body: Vec<_> = (from..from + 30)
        .map(|i| {
            json!({"workdir": format!("w/{i}"), "app_id": app,
                        "tags": {"run": format!("r{i}"), "kind": "k"}})
        })
        .collect();
    let jobs = JobCreate::list_from_json(&json!(body)).expect("jobs");
    store
        .create_jobs(owner, &jobs)
        .await
        .expect("create")
        .into_iter()
        .map(|j| j.id)
        .collect()
}

/// The story; `pairs` reads the table, `split` moves one count of every pair of `owner`
/// to another shard (a no-op where there is one writer).
async fn emptied_pairs_leave_no_rows<P, S>(store: Arc<dyn Store>, pairs: P, split: S)
where
    P: AsyncFn(UserId) -> Pairs,
    S: AsyncFn(UserId),
{
    let (owner, app) = world(&*store).await;
    let (other, other_app) = world(&*store).await;
    let ids = create(&*store, owner, app, 0).await;
    create(&*store, other, other_app, 0).await;
    split(owner).await;
    let all = pairs(owner).await;
    assert_eq!(all.len(), 31, "{all:?}");
    assert_eq!((all[0].0.as_str(), all[0].2), ("kind", 30));

    // Delete ten jobs: their own run tags go, `kind` stays at 20.
    let gone = JobQuery {
        ids: ids[..10].to_vec(),
        ..JobQuery::default()
    };
    assert_eq!(store.delete_jobs(owner, &gone).await.expect("delete"), 10);
    let left = pairs(owner).await;
    assert_eq!(left.len(), 21, "{left:?}");
    assert!(left.iter().all(|(_, _, n, _)| *n > 0), "{left:?}");
    assert_eq!(left[0].0, "kind");
    assert_eq!(left[0].2, 20);

    // Retag ten: their old run tags go, the new ones come.
    let retag: Vec<_> = ids[10..20]
        .iter()
        .map(|&id| balsam_types::JobBulkPatch {
            id,
            patch: JobPatch::from_json(&json!({"tags": {"run": format!("new{id}")}}))
                .expect("patch"),
        })
        .collect();
    store
        .update_jobs(owner, JobUpdate::Patches(&retag))
        .await
        .expect("retag");
    let after = pairs(owner).await;
    assert_eq!(after.len(), 21, "{after:?}");
    assert!(after.iter().all(|(_, _, n, _)| *n > 0), "{after:?}");
    assert_eq!(
        after.iter().filter(|p| p.1.starts_with("new")).count(),
        10,
        "{after:?}"
    );
    assert_eq!((after[0].0.as_str(), after[0].2), ("kind", 10));

    // Every job gone (an App delete cascades inside the database): no row left at all.
    let everything = JobQuery::default();
    assert_eq!(
        store.delete_jobs(owner, &everything).await.expect("all"),
        20
    );
    assert_eq!(pairs(owner).await, Vec::new());
    // Another user's counts are untouched.
    assert_eq!(pairs(other).await.len(), 31);
}

#[tokio::test]
async fn sqlite_emptied_tag_pairs_leave_no_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("tags.db").display());
    let store = crate::connect(&url, 2).await.expect("open store");
    store.migrate().await.expect("migrate");
    let read = async |owner: UserId| -> Pairs {
        let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("open");
        sqlx::query_as(PAIRS_SQL)
            .bind(owner)
            .fetch_all(&mut conn)
            .await
            .expect("pairs")
    };
    emptied_pairs_leave_no_rows(store, read, async |_| {}).await;
}

#[tokio::test]
async fn postgres_emptied_tag_pairs_leave_no_rows_across_shards() {
    let Some(db) = ScratchPg::create("balsam_tags").await else {
        return;
    };
    let url = db.url.clone();
    let store = crate::connect(&url, 2).await.expect("open store");
    store.migrate().await.expect("migrate");
    let read = async |owner: UserId| -> Pairs {
        let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
        sqlx::query_as(PAIRS_SQL)
            .bind(owner)
            .fetch_all(&mut conn)
            .await
            .expect("pairs")
    };
    // Each pair's count in two rows, on two shards, neither of which need be the deleting
    // writer's: only their sum says the pair is empty.
    let split = async |owner: UserId| {
        let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
        sqlx::raw_sql(&format!(
            "WITH moved AS (UPDATE job_tag_counts SET count = count - 1 WHERE owner_id = {owner} \
             RETURNING owner_id, key, value, shard) \
             INSERT INTO job_tag_counts (owner_id, key, value, shard, count) \
             SELECT owner_id, key, value, (shard + 7) % 16, 1 FROM moved"
        ))
        .execute(&mut conn)
        .await
        .expect("split the counts");
        let rows: i64 =
            sqlx::query_scalar("SELECT count(*) FROM job_tag_counts WHERE owner_id = $1")
                .bind(owner)
                .fetch_one(&mut conn)
                .await
                .expect("rows");
        assert_eq!(rows, 62, "every pair in two shards");
    };
    emptied_pairs_leave_no_rows(store.clone(), read, split).await;
    drop(store);
    db.drop().await;
}

/// Rows emptied before migration 12 (PostgreSQL): a pair whose shards sum to zero goes,
/// the others stay. SQLite's single shard: a zero row goes.
const GHOSTS: &str = "INSERT INTO job_tag_counts (owner_id, key, value, shard, count) VALUES \
     (5, 'run', 'x', 1, 2), (5, 'run', 'x', 3, -2), (5, 'run', 'y', 0, 0), (5, 'kind', 'k', 0, 3), \
     (5, 'kind', 'k', 2, 0)";
const LEFT_SQL: &str = "SELECT key, value, CAST(sum(count) AS BIGINT) FROM job_tag_counts \
     GROUP BY key, value ORDER BY key, value";

#[tokio::test]
async fn sqlite_migration_12_drops_the_rows_emptied_before_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&format!("{url}?mode=rwc"))
        .await
        .expect("open sqlite");
    crate::upgrade_tests::migrate_to(&mut conn, &crate::sqlite::MIGRATOR, 11).await;
    sqlx::raw_sql(
        "INSERT INTO job_tag_counts (owner_id, key, value, shard, count) VALUES \
         (5, 'run', 'x', 0, 0), (5, 'run', 'y', 0, 0), (5, 'kind', 'k', 0, 3), \
         (6, 'kind', 'k', 0, 0)",
    )
    .execute(&mut conn)
    .await
    .expect("ghost rows");
    let store = crate::connect(&url, 2).await.expect("open store");
    store.migrate().await.expect("migrate");
    let left: Vec<(String, String, i64)> = sqlx::query_as(LEFT_SQL)
        .fetch_all(&mut conn)
        .await
        .expect("left");
    assert_eq!(left, [("kind".into(), "k".into(), 3)]);
}

#[tokio::test]
async fn postgres_migration_12_drops_the_rows_emptied_before_it() {
    let Some(db) = ScratchPg::create("balsam_tags").await else {
        return;
    };
    let url = db.url.clone();
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
    crate::upgrade_tests::migrate_to(&mut conn, &crate::postgres::MIGRATOR, 11).await;
    sqlx::raw_sql(GHOSTS)
        .execute(&mut conn)
        .await
        .expect("ghost rows");
    let store = crate::connect(&url, 2).await.expect("open store");
    store.migrate().await.expect("migrate");
    let left: Vec<(String, String, i64)> = sqlx::query_as(LEFT_SQL)
        .fetch_all(&mut conn)
        .await
        .expect("left");
    assert_eq!(left, [("kind".into(), "k".into(), 3)]);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM job_tag_counts")
        .fetch_one(&mut conn)
        .await
        .expect("rows");
    assert_eq!(rows, 2, "a pair that is not empty keeps its zero shard");
    conn.close().await.expect("close");
    drop(store);
    db.drop().await;
}
