//! Plan tests on PostgreSQL: each hot query shape (`crate::plan_shapes`), built by the
//! store's own query builders, is run under `EXPLAIN (ANALYZE, FORMAT JSON)` on a table of
//! `JOBS` jobs right after the bulk load (never ANALYZEd: the planner has no statistics)
//! and again after `ANALYZE`. Every plan must read the intended index, never scan `jobs`
//! or `log_events` sequentially, and sort no more rows than the shape's limit.
//!
//! Repetition note: like `sqlite/plan_tests.rs` and `upgrade_tests.rs`, each test builds its
//! own table and asserts its own plan, spelled out so a failing plan reads on its own.

use super::job_queries::push_job_count;
use super::log_events::push_event_page;
use super::sessions::{push_acquire, push_tag_probe, Candidates};
use crate::plan_shapes::{cases, PlanCase, Shape, JOBS};
use crate::shared::jobs::JobSql;
use crate::upgrade_tests::ScratchPg;
use balsam_types::Session;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{Connection, PgConnection, Postgres, QueryBuilder};

const LOAD: &str = "
INSERT INTO users (id, username, created_at) VALUES (1, 'ann', now()), (2, 'bob', now());
INSERT INTO sites (id, owner_id, name, path, last_refresh, creation_date)
    VALUES (1, 1, 's1', '/p', now(), now()), (2, 1, 's2', '/p', now(), now()),
           (3, 2, 'b1', '/p', now(), now());
INSERT INTO apps (id, site_id, name, serialized_class, source_code)
    VALUES (1, 1, 'a1', '', ''), (2, 2, 'a2', '', ''), (3, 3, 'b', '', '');
INSERT INTO sessions (id, site_id, heartbeat) VALUES (1, 1, now());
INSERT INTO jobs (owner_id, site_id, app_id, workdir, tags, state, last_update)
    SELECT 1, 1, 1, 'w/' || g,
           jsonb_build_object('kind', CASE WHEN g % 2 = 0 THEN 'even' ELSE 'odd' END,
                              'batch', (g / 1000)::text),
           CASE WHEN g % 10 < 7 THEN 'STAGED_IN' WHEN g % 10 < 9 THEN 'PREPROCESSED'
                ELSE 'JOB_FINISHED' END,
           now() - (g || ' ms')::interval
    FROM generate_series(1, $JOBS) g;
INSERT INTO jobs (owner_id, site_id, app_id, workdir, state, last_update)
    SELECT 2, 3, 3, 'w/' || g, 'PREPROCESSED', now() FROM generate_series(1, 1000) g;
INSERT INTO log_events (job_id, owner_id, timestamp, from_state, to_state)
    SELECT id, owner_id, last_update, 'CREATED', 'STAGED_IN' FROM jobs;
INSERT INTO log_event_minutes (owner_id, minute, site_id, shard, finished, moved, moved_s)
    SELECT 1 + g % 2, 27000000 + g * 4, 1 + g % 2, g % 16, 3, 1.5, 20.0
    FROM generate_series(1, $JOBS) g;
";

fn explain(case: &PlanCase) -> QueryBuilder<'static, Postgres> {
    let mut b = QueryBuilder::new("EXPLAIN (ANALYZE, FORMAT JSON) ");
    match &case.shape {
        Shape::JobPage(q, page) => sqlx::Postgres::push_page(&mut b, case.owner, q, *page, false),
        Shape::JobCount(q) => push_job_count(&mut b, case.owner, q),
        Shape::EventPage(q, page) => push_event_page(&mut b, case.owner, q, *page),
        Shape::Acquire(spec) => {
            let session = Session {
                id: 1,
                site_id: 1,
                batch_job_id: None,
                heartbeat: balsam_types::time::now(),
            };
            push_acquire(
                &mut b,
                case.owner,
                &session,
                spec,
                balsam_types::time::now(),
                Candidates::Walk,
            );
        }
    }
    b
}

/// What a plan reads: `(relation, index)` of every scan node, and the largest number of
/// rows any sort node was fed.
#[derive(Default, Debug)]
struct Reads {
    scans: Vec<(String, String, Option<String>)>,
    max_sorted: i64,
}

impl Reads {
    /// What an `EXPLAIN (FORMAT JSON)` answer's plan reads.
    fn of(plan: &Value) -> Self {
        let mut reads = Self::default();
        walk_plan(&plan[0]["Plan"], &mut reads);
        reads
    }

    /// The indexes read, in plan order.
    fn indexes(&self) -> Vec<&str> {
        self.scans
            .iter()
            .filter_map(|(_, _, i)| i.as_deref())
            .collect()
    }
}

fn walk_plan(node: &Value, reads: &mut Reads) {
    let kind = node["Node Type"].as_str().unwrap_or_default().to_owned();
    if let Some(rel) = node["Relation Name"].as_str() {
        reads.scans.push((
            kind.clone(),
            rel.to_owned(),
            node["Index Name"].as_str().map(str::to_owned),
        ));
    } else if let Some(index) = node["Index Name"].as_str() {
        reads
            .scans
            .push((kind.clone(), String::new(), Some(index.to_owned())));
    }
    let children = node["Plans"].as_array().cloned().unwrap_or_default();
    if kind == "Sort" || kind == "Incremental Sort" {
        for child in &children {
            let rows = child["Actual Rows"].as_f64().unwrap_or(0.0)
                * child["Actual Loops"].as_f64().unwrap_or(1.0);
            reads.max_sorted = reads.max_sorted.max(rows as i64);
        }
    }
    for child in &children {
        walk_plan(child, reads);
    }
}

async fn check(conn: &mut PgConnection, case: &PlanCase, when: &str) -> Result<(), String> {
    // The transaction and settings the store runs each shape with.
    let begin = match &case.shape {
        Shape::JobPage(q, _) => super::job_queries::page_begin(q),
        _ => "BEGIN",
    };
    let mut tx = conn.begin_with(begin).await.map_err(|e| e.to_string())?;
    let sort_off = "SET LOCAL enable_sort = off";
    // (A job page's settings travel with its `BEGIN`, above.)
    let settings = match &case.shape {
        Shape::EventPage(q, _) if super::log_events::page_in_index_order(q) => Some(sort_off),
        Shape::Acquire(_) => Some(sort_off),
        Shape::JobPage(..) | Shape::EventPage(..) | Shape::JobCount(_) => None,
    };
    if let Some(sql) = settings {
        sqlx::query(sql)
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
    }
    let plan: Json<Value> = explain(case)
        .build_query_scalar()
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| format!("{}: {e}", case.name))?;
    tx.rollback().await.map_err(|e| e.to_string())?; // acquire's UPDATE changes nothing
    let reads = Reads::of(&plan.0);
    let fail = |why: String| Err(format!("{} ({when}): {why}\nplan: {:#}", case.name, plan.0));
    if let Some((_, rel, _)) = reads
        .scans
        .iter()
        .find(|(kind, rel, _)| kind == "Seq Scan" && (rel == "jobs" || rel == "log_events"))
    {
        return fail(format!("sequential scan of {rel}"));
    }
    if case.index.is_empty() {
        if reads.scans.iter().any(|(_, rel, _)| rel == "jobs") {
            return fail(format!("reads jobs: {:?}", reads.scans));
        }
    } else if !reads
        .scans
        .iter()
        .any(|(_, _, i)| i.as_deref().is_some_and(|i| case.index.contains(&i)))
    {
        return fail(format!("reads none of {:?}: {:?}", case.index, reads.scans));
    }
    // The planner settings that keep shapes on their indexes price any remaining sort at
    // 10^10, far past `jit_above_cost`: with JIT on, the acquire compiled for ~0.5 s.
    if let Some(jit) = plan.0[0].get("JIT") {
        return fail(format!(
            "JIT-compiled ({jit}): the store's sessions run with jit = off"
        ));
    }
    if reads.max_sorted > case.max_sorted {
        return fail(format!(
            "sorts {} rows (at most {} allowed)",
            reads.max_sorted, case.max_sorted
        ));
    }
    Ok(())
}

/// The fixed statements that take a bulk update's or create's 1 000 ids (not built by a
/// query builder, so not in `plan_shapes`): they must probe the primary key, not walk
/// the owner's jobs.
async fn check_id_lists(conn: &mut PgConnection, jobs: i64, when: &str) -> Result<(), String> {
    let ids: Vec<i64> = (0..1000).map(|k| 1 + k * (jobs / 1000)).collect();
    for (name, sql) in [
        ("bulk update targets", super::job_queries::JOB_HEADS_SQL),
        ("bulk create parents", super::job_queries::JOB_STATES_SQL),
    ] {
        let mut tx = conn
            .begin_with(super::WRITE_BEGIN)
            .await
            .map_err(|e| e.to_string())?;
        let plan: Json<Value> =
            sqlx::query_scalar(&format!("EXPLAIN (ANALYZE, FORMAT JSON) {sql}"))
                .bind(1_i64)
                .bind(&ids)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| format!("{name}: {e}"))?;
        tx.rollback().await.map_err(|e| e.to_string())?;
        let reads = Reads::of(&plan.0);
        if reads.indexes() != ["jobs_pkey"] {
            return Err(format!(
                "{name} ({when}): reads {:?}, not the primary key alone\nplan: {:#}",
                reads.scans, plan.0
            ));
        }
    }
    Ok(())
}

/// Pages filtered by one tag, PostgreSQL only (SQLite keeps tags as JSON text, with no
/// index on them), read the way the store decides from the page's count: a tag that 1 000
/// jobs carry (`batch`) from the GIN index alone, not ANDed with the owner's whole range
/// of `jobs_owner_id_idx`; a tag that half the jobs carry (`kind`) by walking
/// `jobs_owner_id_idx` (or, after ANALYZE on a table that is nearly all this owner's, the
/// primary key) in order, sorting nothing.
async fn check_tags(conn: &mut PgConnection, jobs: i64, when: &str) -> Result<(), String> {
    for (key, value, matches, walk, index) in [
        ("batch", "7", 1000, false, &["jobs_tags_idx"][..]),
        (
            "kind",
            "even",
            jobs / 2,
            true,
            &["jobs_owner_id_idx", "jobs_pkey"],
        ),
    ] {
        let q = balsam_types::JobQuery {
            tags: vec![(key.into(), value.into())],
            ..Default::default()
        };
        let page = balsam_types::Page {
            limit: 100,
            offset: 0,
        };
        let settings = <Postgres as JobSql>::walk_pays(&q, page, matches, jobs);
        if settings.is_some() != walk {
            return Err(format!("tag {key} ({when}): walk {walk} expected"));
        }
        let mut tx = conn
            .begin_with(super::job_queries::page_begin(&q))
            .await
            .map_err(|e| e.to_string())?;
        if let Some(sql) = settings {
            sqlx::query(sql)
                .execute(&mut *tx)
                .await
                .map_err(|e| e.to_string())?;
        }
        let mut b = QueryBuilder::new("EXPLAIN (ANALYZE, FORMAT JSON) ");
        sqlx::Postgres::push_page(&mut b, 1, &q, page, walk);
        let plan: Json<Value> = b
            .build_query_scalar()
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| format!("tag {key}: {e}"))?;
        tx.rollback().await.map_err(|e| e.to_string())?;
        let reads = Reads::of(&plan.0);
        let indexes = reads.indexes();
        let max_sorted = if walk { 0 } else { 1000 };
        if indexes.len() != 1 || !index.contains(&indexes[0]) || reads.max_sorted > max_sorted {
            return Err(format!(
                "tag {key} page ({when}): reads {:?}, sorts {} rows; wanted one of {index:?} alone\nplan: {:#}",
                reads.scans, reads.max_sorted, plan.0
            ));
        }
    }
    Ok(())
}

/// An acquire with `filter_tags`: its probe reads the first candidates of the walk's index
/// in order (no sort), and the by-tag path finds its candidates through the tags index
/// alone and sorts only the jobs carrying the tag (`batch:7`: 1 000 jobs, ~200 of them
/// PREPROCESSED).
async fn check_tagged_acquire(conn: &mut PgConnection, when: &str) -> Result<(), String> {
    let session = Session {
        id: 1,
        site_id: 1,
        batch_job_id: None,
        heartbeat: balsam_types::time::now(),
    };
    let mut spec = crate::plan_shapes::acquire(&[
        balsam_types::JobState::Preprocessed,
        balsam_types::JobState::RestartReady,
    ]);
    spec.filter_tags
        .insert("batch".into(), serde_json::Value::String("7".into()));
    for (name, index, max_sorted) in [
        ("probe", "jobs_acquire_idx", 0),
        ("by tag", "jobs_tags_idx", 2_000),
    ] {
        let mut tx = conn
            .begin_with(super::WRITE_BEGIN)
            .await
            .map_err(|e| e.to_string())?;
        let sort = if name == "probe" { "off" } else { "on" };
        sqlx::query(&format!("SET LOCAL enable_sort = {sort}"))
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
        let mut b = QueryBuilder::new("EXPLAIN (ANALYZE, FORMAT JSON) ");
        if name == "probe" {
            push_tag_probe(&mut b, 1, &session, &spec);
        } else {
            let now = balsam_types::time::now();
            push_acquire(&mut b, 1, &session, &spec, now, Candidates::ByTag);
        }
        let plan: Json<Value> = b
            .build_query_scalar()
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| format!("tagged acquire {name}: {e}"))?;
        tx.rollback().await.map_err(|e| e.to_string())?;
        let reads = Reads::of(&plan.0);
        let jobs_indexes: Vec<&str> = reads
            .scans
            .iter()
            .filter(|(_, rel, i)| {
                rel == "jobs" || i.as_deref().is_some_and(|i| i.starts_with("jobs_"))
            })
            .filter_map(|(_, _, i)| i.as_deref())
            .filter(|i| *i != "jobs_pkey") // the UPDATE finds its picks by key
            .collect();
        let seq = reads
            .scans
            .iter()
            .any(|(k, rel, _)| k == "Seq Scan" && rel == "jobs");
        if seq || jobs_indexes.iter().any(|i| *i != index) || reads.max_sorted > max_sorted {
            return Err(format!(
                "tagged acquire {name} ({when}): reads {:?}, sorts {} rows; wanted {index} alone\nplan: {:#}",
                reads.scans, reads.max_sorted, plan.0
            ));
        }
    }
    Ok(())
}

/// The chart aggregates read the owner's minutes of the window from the rollup's primary
/// key; the rollup's own writes read jobs (and, when jobs are deleted, their LogEvents) by
/// key. Nothing scans `jobs`, `log_events` or `log_event_minutes`.
async fn check_aggregates(conn: &mut PgConnection, when: &str) -> Result<(), String> {
    use crate::shared::aggregates::{AggregateSql, MOVES_SQL, THROUGHPUT_SQL};
    let ids: Vec<i64> = (1..=1000).collect();
    let minutes: Vec<i64> = vec![27_800_100; 1000];
    let seconds: Vec<f64> = vec![1.5; 1000];
    let finished: Vec<i64> = vec![1; 1000];
    let signs: Vec<f64> = vec![-1.0; 1000];
    type Bind = for<'q> fn(
        sqlx::query::QueryScalar<'q, Postgres, Json<Value>, sqlx::postgres::PgArguments>,
        &'q [Vec<i64>; 3],
        &'q [Vec<f64>; 2],
    ) -> sqlx::query::QueryScalar<
        'q,
        Postgres,
        Json<Value>,
        sqlx::postgres::PgArguments,
    >;
    let read: Bind = |q, _, _| {
        q.bind(27_790_000_i64)
            .bind(60_i64)
            .bind(1_i64)
            .bind(27_800_080_i64)
    };
    let moves: Bind = |q, _, _| q.bind(27_790_000_i64).bind(60_i64).bind(1_i64);
    let rollup: Bind = |q, i, f| {
        q.bind(1_i64)
            .bind(&i[0])
            .bind(&i[1])
            .bind(&f[0])
            .bind(&i[2])
            .bind(&f[1])
    };
    let unroll: Bind = |q, i, _| q.bind(&i[0]);
    let ints = [ids, minutes, finished];
    let floats = [seconds, signs];
    for (name, sql, bind, begin, index) in [
        (
            "throughput",
            THROUGHPUT_SQL,
            read,
            "BEGIN",
            &["log_event_minutes_pkey"][..],
        ),
        (
            "moves",
            MOVES_SQL,
            moves,
            "BEGIN",
            &["log_event_minutes_pkey"],
        ),
        (
            "rollup",
            super::aggregates::ROLLUP_SQL,
            rollup,
            super::WRITE_BEGIN,
            &["jobs_pkey"],
        ),
        (
            "unroll",
            <Postgres as AggregateSql>::UNROLL,
            unroll,
            super::WRITE_BEGIN,
            &["log_events_job_idx"],
        ),
    ] {
        let mut tx = conn.begin_with(begin).await.map_err(|e| e.to_string())?;
        let text = format!("EXPLAIN (ANALYZE, FORMAT JSON) {sql}");
        let q = sqlx::query_scalar(&text);
        let plan: Json<Value> = bind(q, &ints, &floats)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| format!("{name}: {e}"))?;
        tx.rollback().await.map_err(|e| e.to_string())?;
        let reads = Reads::of(&plan.0);
        let seq = reads.scans.iter().any(|(kind, rel, _)| {
            kind == "Seq Scan"
                && ["jobs", "log_events", "log_event_minutes"].contains(&rel.as_str())
        });
        let used: Vec<&str> = reads
            .scans
            .iter()
            .filter_map(|(_, _, i)| i.as_deref())
            .collect();
        // Jobs by key: the primary key, or `(owner_id, id)` with both bound.
        let jobs_by_key = used
            .iter()
            .all(|i| !i.starts_with("jobs_") || matches!(*i, "jobs_pkey" | "jobs_owner_id_idx"));
        if seq || !jobs_by_key || !index.iter().all(|i| used.contains(i)) {
            return Err(format!(
                "{name} ({when}): reads {:?}, wanted {index:?}\nplan: {:#}",
                reads.scans, plan.0
            ));
        }
    }
    Ok(())
}

/// Loads `jobs` jobs into the fresh database at `url` and checks every shape before and
/// after `ANALYZE`; returns the failures.
async fn check_all(url: &str, jobs: i64) -> Vec<String> {
    let store = super::PostgresStore::connect(url, 2)
        .await
        .expect("connect");
    crate::Store::migrate(&store).await.expect("migrate");
    // A connection of the store's own pool: its session settings (jit) are part of what
    // is checked.
    let mut conn = store.pool.acquire().await.expect("connect").detach();
    drop(store);
    sqlx::raw_sql(&LOAD.replace("$JOBS", &jobs.to_string()))
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
        } else {
            let never: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stats WHERE tablename IN ('jobs', 'log_events')",
            )
            .fetch_one(&mut conn)
            .await
            .expect("pg_stats");
            assert_eq!(never, 0, "the table must have no statistics yet");
        }
        let when = format!("{jobs} jobs, {when}");
        for case in cases() {
            if let Err(e) = check(&mut conn, &case, &when).await {
                failures.push(e);
            }
        }
        if let Err(e) = check_id_lists(&mut conn, jobs, &when).await {
            failures.push(e);
        }
        if let Err(e) = check_tags(&mut conn, jobs, &when).await {
            failures.push(e);
        }
        if let Err(e) = check_tagged_acquire(&mut conn, &when).await {
            failures.push(e);
        }
        if let Err(e) = check_aggregates(&mut conn, &when).await {
            failures.push(e);
        }
    }
    conn.close().await.expect("close");
    failures
}

/// On the big table and on a small one: without statistics the planner's guesses scale
/// with the table's size, and a small table is where a sort of "a few rows" looks cheap.
#[tokio::test]
async fn hot_queries_read_their_index_with_and_without_statistics() {
    let mut failures = Vec::new();
    for jobs in [20_000, JOBS] {
        let Some(db) = ScratchPg::create("balsam_plans").await else {
            return;
        };
        failures.extend(check_all(&db.url, jobs).await);
        db.drop().await;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
