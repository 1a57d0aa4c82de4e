//! `GET /aggregates/throughput` and `/aggregates/utilization` against plain SQL over the
//! same window, on whichever database the test app runs (SQLite or PostgreSQL).
//!
//! Repetition note: each test spells out its requests and assertions step by step, so
//! tests here and in the other API test files look alike on purpose.

use crate::support::{TestApp, TestUser};
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// `(job_id, site_id, weight, from_state, to_state, microseconds since the epoch)` of every
/// LogEvent of the user's jobs, read through `jobs.owner_id` (not the events' own copy).
type Row = (i64, i64, f64, String, String, i64);

async fn events_by_sql(app: &TestApp, owner: i64) -> Vec<Row> {
    const SQLITE: &str = "SELECT e.job_id, j.site_id, \
        CAST(j.num_nodes AS REAL) / max(1, j.node_packing_count), e.from_state, e.to_state, \
        e.timestamp FROM log_events e JOIN jobs j ON j.id = e.job_id WHERE j.owner_id = $1 \
        ORDER BY e.timestamp, e.id";
    const POSTGRES: &str = "SELECT e.job_id, j.site_id, \
        j.num_nodes::float8 / greatest(1, j.node_packing_count), e.from_state, e.to_state, \
        (EXTRACT(EPOCH FROM e.timestamp) * 1000000)::int8 FROM log_events e \
        JOIN jobs j ON j.id = e.job_id WHERE j.owner_id = $1 ORDER BY e.timestamp, e.id";
    if app.database_url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
        let rows = sqlx::query_as(SQLITE).bind(owner).fetch_all(&pool).await;
        pool.close().await;
        rows.unwrap()
    } else {
        let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
        let rows = sqlx::query_as(POSTGRES).bind(owner).fetch_all(&pool).await;
        pool.close().await;
        rows.unwrap()
    }
}

fn micros(v: &Value) -> i64 {
    let t = NaiveDateTime::parse_from_str(v.as_str().unwrap(), "%Y-%m-%dT%H:%M:%S%.f").unwrap();
    t.and_utc().timestamp_micros()
}

fn naive(t: DateTime<Utc>) -> String {
    t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

async fn patch(app: &TestApp, user: &TestUser, body: Value) {
    let r = app
        .call(Method::PATCH, "/jobs/", Some(&user.token), Some(body))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

async fn app_at(app: &TestApp, user: &TestUser, name: &str) -> i64 {
    let site = app.site(user, name).await;
    let a = app
        .post(
            "/apps/",
            user,
            json!({"site_id": site["id"], "name": "A",
            "serialized_class": "x", "source_code": "y"}),
        )
        .await;
    a.body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn aggregates_equal_sql_over_the_same_window() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let (a, b) = (
        app_at(&app, &user, "a").await,
        app_at(&app, &user, "b").await,
    );
    let jobs = app
        .post(
            "/jobs/",
            &user,
            json!([
                {"workdir": "1", "app_id": a, "num_nodes": 4},
                {"workdir": "2", "app_id": a, "num_nodes": 2, "node_packing_count": 4},
                {"workdir": "3", "app_id": b, "num_nodes": 1},
                {"workdir": "4", "app_id": b, "num_nodes": 8},
            ]),
        )
        .await
        .body;
    let id = |i: usize| jobs[i]["id"].as_i64().unwrap();
    let now = Utc::now();
    let ago = |m: i64| naive(now - TimeDelta::minutes(m));
    // Minute by minute over the last two hours, each job in turn starts, ends and
    // restarts, so every bucket of the hour sees moves into and out of RUNNING.
    for step in (7..120).rev().step_by(7) {
        for (i, offset) in [(0, 0), (1, 2), (2, 3), (3, 5)] {
            let m = step + offset;
            // Each move: (state, minutes before `m`).
            let path: &[(&str, i64)] = if (step + i as i64) % 3 != 0 {
                &[
                    ("PREPROCESSED", 3),
                    ("RUNNING", 2),
                    ("RUN_DONE", 1),
                    ("POSTPROCESSED", 1),
                    ("RESTART_READY", 0),
                ]
            } else {
                &[
                    ("PREPROCESSED", 3),
                    ("RUNNING", 2),
                    ("RUN_ERROR", 1),
                    ("RESTART_READY", 0),
                ]
            };
            for (state, before) in path {
                patch(
                    &app,
                    &user,
                    json!([{"id": id(i), "state": state, "state_timestamp": ago(m + before)}]),
                )
                .await;
            }
        }
    }
    // Two left running.
    for (i, m) in [(0, 4), (2, 1)] {
        patch(
            &app,
            &user,
            json!([{"id": id(i), "state": "RUNNING",
            "state_timestamp": ago(m)}]),
        )
        .await;
    }
    let events = events_by_sql(&app, user.id).await;

    for window in ["hour", "day", "week"] {
        let t = app
            .get(&format!("/aggregates/throughput?window={window}"), &user)
            .await;
        assert_eq!(t.status, StatusCode::OK, "{}", t.text);
        let (start, end) = (micros(&t.body["start"]), micros(&t.body["end"]));
        let width = t.body["bucket_seconds"].as_i64().unwrap() * 1_000_000;
        let n = t.body["buckets"].as_u64().unwrap() as usize;
        assert_eq!((end - start) / width, n as i64);
        let mut expected: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for (_, site, _, _, to, ts) in &events {
            if to == "JOB_FINISHED" && (start..end).contains(ts) {
                expected.entry(*site).or_insert_with(|| vec![0; n])
                    [((ts - start) / width) as usize] += 1;
            }
        }
        let got: BTreeMap<i64, Vec<i64>> = t.body["sites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["site_id"].as_i64().unwrap(),
                    serde_json::from_value(s["counts"].clone()).unwrap(),
                )
            })
            .collect();
        assert_eq!(got, expected, "{window}");
        let total: i64 = expected.values().flatten().sum();
        assert!(total >= 15, "{window}: {total}");
        assert_eq!(t.body["total"], total);

        let u = app
            .get(&format!("/aggregates/utilization?window={window}"), &user)
            .await;
        assert_eq!(u.status, StatusCode::OK, "{}", u.text);
        assert_eq!(u.body["busy_now"], 4.0 + 1.0);
        let start = micros(&u.body["start"]);
        let busy: Vec<f64> = serde_json::from_value(u.body["busy_start"].clone()).unwrap();
        assert_eq!(busy.len(), n);
        let mut moving = 0;
        for (i, got) in busy.iter().enumerate() {
            let at = start + i as i64 * width;
            let mut running: BTreeMap<i64, (bool, f64)> = BTreeMap::new();
            for (job, _, w, from, to, _) in events.iter().filter(|e| e.5 < at) {
                if to == "RUNNING" {
                    running.insert(*job, (true, *w));
                } else if from == "RUNNING" {
                    running.insert(*job, (false, *w));
                }
            }
            let expected: f64 = running.values().filter(|r| r.0).map(|r| r.1).sum();
            assert!(
                (got - expected).abs() < 1e-9,
                "{window} bucket {i}: {got} != {expected}"
            );
            moving += usize::from(expected != busy[0]);
        }
        if window == "hour" {
            assert!(moving > 10, "the busy line should move within the hour");
        }
    }
}

#[tokio::test]
async fn aggregates_name_their_windows_and_need_a_token() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let r = app.get("/aggregates/throughput?window=month", &user).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["loc"], json!(["query", "window"]));
    let r = app.get("/aggregates/utilization", &user).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["window"], "hour");
    assert_eq!(r.body["busy_mean"].as_array().unwrap().len(), 60);
    assert_eq!(r.body["busy_now"], 0.0);
    let r = app.get("/aggregates/throughput?window=week", &user).await;
    assert_eq!(
        (r.body["buckets"].clone(), r.body["bucket_seconds"].clone()),
        (json!(168), json!(3600))
    );
    assert_eq!(r.body["sites"], json!([]));
    let r = app
        .call(Method::GET, "/aggregates/throughput", None, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
