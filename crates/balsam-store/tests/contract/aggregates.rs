//! The chart aggregates against the LogEvents the store lists for the same window: jobs run
//! with backdated `state_timestamp`s at two Sites, read for windows ending "now".
//!
//! Repetition note: each story sets up and checks its own world, spelled out, so a failing
//! story reads on its own; shared fixtures live in `support.rs` and `jobs.rs`.

use crate::jobs::jobs;
use crate::support::user;
use balsam_store::{JobUpdate, Store};
use balsam_types::aggregates::AggregateWindow;
use balsam_types::time::isoformat_naive;
use balsam_types::{
    AppCreate, EventQuery, JobBulkPatch, JobPatch, LogEvent, Page, SiteCreate, UserId,
};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use std::collections::BTreeMap;

async fn site_and_app(store: &dyn Store, owner: UserId, name: &str) -> (i64, i64) {
    let s = SiteCreate::from_json(&json!({"name": name, "path": format!("/{name}")})).unwrap();
    let s = store.create_site(owner, &s).await.unwrap();
    let app = AppCreate::from_json(&json!({"site_id": s.id, "name": "App",
        "serialized_class": "x", "source_code": "y"}))
    .unwrap();
    (s.id, store.create_app(owner, &app).await.unwrap().id)
}

/// Moves `job` through `states`, each at its own time.
async fn run(store: &dyn Store, owner: UserId, job: i64, steps: &[(&str, DateTime<Utc>)]) {
    for (state, at) in steps {
        let patch =
            JobPatch::from_json(&json!({"state": state, "state_timestamp": isoformat_naive(at)}))
                .unwrap();
        store
            .update_jobs(
                owner,
                JobUpdate::Patches(&[JobBulkPatch { id: job, patch }]),
            )
            .await
            .unwrap();
    }
}

async fn all_events(store: &dyn Store, owner: UserId) -> Vec<LogEvent> {
    let q = EventQuery {
        newest_first: false,
        ..Default::default()
    };
    let page = Page {
        limit: 10_000,
        offset: 0,
    };
    let mut events = store.list_events(owner, &q, page).await.unwrap().results;
    events.sort_by_key(|e| (e.timestamp, e.id));
    events
}

pub async fn throughput_and_utilization_agree_with_the_listed_events(store: &dyn Store) {
    let owner = user(store).await;
    let (site_a, app_a) = site_and_app(store, owner, "a").await;
    let (site_b, app_b) = site_and_app(store, owner, "b").await;
    let created = store
        .create_jobs(
            owner,
            &jobs(json!([
                {"workdir": "1", "app_id": app_a, "num_nodes": 2},
                {"workdir": "2", "app_id": app_a, "num_nodes": 1, "node_packing_count": 2},
                {"workdir": "3", "app_id": app_b},
                {"workdir": "4", "app_id": app_a},
                {"workdir": "5", "app_id": app_b, "num_nodes": 3},
            ])),
        )
        .await
        .unwrap();
    let id = |i: usize| created[i].id;
    let now = balsam_types::time::now();
    let ago = |m: i64| now - TimeDelta::minutes(m);
    let finish = |start: i64, end: i64| {
        [
            ("PREPROCESSED", ago(start + 1)),
            ("RUNNING", ago(start)),
            ("RUN_DONE", ago(end)),
            ("POSTPROCESSED", ago(end)),
        ]
    };
    run(store, owner, id(0), &finish(50, 19)).await;
    run(
        store,
        owner,
        id(1),
        &[("PREPROCESSED", ago(91)), ("RUNNING", ago(90))],
    )
    .await;
    run(store, owner, id(2), &finish(10, 5)).await;
    run(store, owner, id(3), &finish(180, 120)).await;
    run(
        store,
        owner,
        id(4),
        &[("PREPROCESSED", ago(3)), ("RUNNING", ago(2))],
    )
    .await;
    // Another user's finish is never counted.
    let other = user(store).await;
    let (_, other_app) = site_and_app(store, other, "a").await;
    let theirs = store
        .create_jobs(other, &jobs(json!([{"workdir": "x", "app_id": other_app}])))
        .await
        .unwrap();
    run(store, other, theirs[0].id, &finish(30, 15)).await;

    let events = all_events(store, owner).await;
    let weight = |job: i64| match created.iter().position(|j| j.id == job) {
        Some(0) => 2.0,
        Some(1) => 0.5,
        Some(4) => 3.0,
        _ => 1.0,
    };

    for (window, total) in [
        (AggregateWindow::Hour, 2),
        (AggregateWindow::Day, 3),
        (AggregateWindow::Week, 3),
    ] {
        let t = store.throughput(owner, window, now).await.unwrap();
        let span = window.span(now);
        assert_eq!(t.span, span);
        assert_eq!(t.total, total, "{window:?}");
        // The same window's finishes, binned here.
        let mut expected: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for e in events.iter().filter(|e| {
            e.to_state == "JOB_FINISHED" && e.timestamp >= span.start && e.timestamp < span.end
        }) {
            let site = if created[2].id == e.job_id {
                site_b
            } else {
                site_a
            };
            let i = ((e.timestamp - span.start).num_seconds() / span.bucket_seconds) as usize;
            expected
                .entry(site)
                .or_insert_with(|| vec![0; span.buckets])[i] += 1;
        }
        let got: BTreeMap<i64, Vec<i64>> = t
            .sites
            .iter()
            .map(|s| (s.site_id, s.counts.clone()))
            .collect();
        assert_eq!(got, expected, "{window:?}");

        // Busy nodes at each bucket's start: every job whose last move into or out of
        // RUNNING at or before that instant was into it.
        let u = store.utilization(owner, window, now).await.unwrap();
        assert_eq!(u.busy_now, 0.5 + 3.0);
        for (i, &busy) in u.busy_start.iter().enumerate() {
            let at = span.start + TimeDelta::seconds(span.bucket_seconds * i as i64);
            let mut running: BTreeMap<i64, bool> = BTreeMap::new();
            for e in events.iter().filter(|e| e.timestamp < at) {
                if e.to_state == "RUNNING" {
                    running.insert(e.job_id, true);
                } else if e.from_state == "RUNNING" {
                    running.insert(e.job_id, false);
                }
            }
            let expected: f64 = running
                .iter()
                .filter(|(_, &r)| r)
                .map(|(&job, _)| weight(job))
                .sum();
            assert_eq!(busy, expected, "{window:?} bucket {i}");
        }
        assert!(u.busy_mean.iter().all(|m| m.is_finite()));
    }

    // An hour that ended before anything ran: nothing finished, nothing busy.
    let early = now - TimeDelta::hours(5);
    let t = store
        .throughput(owner, AggregateWindow::Hour, early)
        .await
        .unwrap();
    assert_eq!(t.total, 0);
    assert!(t.sites.is_empty());
    let u = store
        .utilization(owner, AggregateWindow::Hour, early)
        .await
        .unwrap();
    assert!(u.busy_start.iter().all(|&b| b == 0.0));
    assert!(u.busy_mean.iter().all(|&b| b == 0.0));
}

/// The charts count what the LogEvents say, and a deleted job's LogEvents go with it: its
/// finish leaves the throughput and its time RUNNING leaves the utilisation.
pub async fn a_deleted_jobs_events_leave_the_charts(store: &dyn Store) {
    let owner = user(store).await;
    let (site, app) = site_and_app(store, owner, "a").await;
    let created = store
        .create_jobs(
            owner,
            &jobs(json!([
                {"workdir": "kept", "app_id": app},
                {"workdir": "gone", "app_id": app},
                {"workdir": "running", "app_id": app, "num_nodes": 4},
            ])),
        )
        .await
        .unwrap();
    let now = balsam_types::time::now();
    let ago = |m: i64| now - TimeDelta::minutes(m);
    for job in &created[..2] {
        run(
            store,
            owner,
            job.id,
            &[
                ("PREPROCESSED", ago(21)),
                ("RUNNING", ago(20)),
                ("RUN_DONE", ago(10)),
                ("POSTPROCESSED", ago(10)),
            ],
        )
        .await;
    }
    run(
        store,
        owner,
        created[2].id,
        &[("PREPROCESSED", ago(31)), ("RUNNING", ago(30))],
    )
    .await;
    let before = store
        .throughput(owner, AggregateWindow::Hour, now)
        .await
        .unwrap();
    assert_eq!(before.total, 2);
    assert_eq!(before.sites[0].site_id, site);
    let u = store
        .utilization(owner, AggregateWindow::Hour, now)
        .await
        .unwrap();
    assert_eq!(u.busy_now, 4.0);
    assert_eq!(pushed_running_nodes(store, owner).await, 4.0);
    assert_eq!(u.busy_start[0], 0.0);
    assert_eq!(u.busy_start[45], 6.0); // 25 minutes ago: all three running

    let gone = balsam_types::JobQuery {
        ids: vec![created[1].id, created[2].id],
        ..Default::default()
    };
    assert_eq!(store.delete_jobs(owner, &gone).await.unwrap(), 2);
    let after = store
        .throughput(owner, AggregateWindow::Hour, now)
        .await
        .unwrap();
    assert_eq!(after.total, 1);
    let u = store
        .utilization(owner, AggregateWindow::Hour, now)
        .await
        .unwrap();
    assert_eq!(u.busy_now, 0.0);
    // A browser that never held the deleted RUNNING job learns it from the pushed counts.
    assert_eq!(pushed_running_nodes(store, owner).await, 0.0);
    assert!(u.busy_start.iter().all(|&b| b == 0.0 || b == 1.0), "{u:?}");
    assert_eq!(u.busy_start[45], 1.0);

    // Nodes busy now follow the RUNNING jobs' node counts, not those of other jobs.
    let late = store
        .create_jobs(owner, &jobs(json!([{"workdir": "late", "app_id": app}])))
        .await
        .unwrap();
    run(
        store,
        owner,
        late[0].id,
        &[("PREPROCESSED", ago(2)), ("RUNNING", ago(1))],
    )
    .await;
    let busy = || async {
        store
            .utilization(owner, AggregateWindow::Hour, now)
            .await
            .unwrap()
            .busy_now
    };
    assert_eq!(busy().await, 1.0);
    for (job, nodes) in [(late[0].id, 3), (created[0].id, 5)] {
        let patch = JobPatch::from_json(&json!({"num_nodes": nodes})).unwrap();
        store
            .update_jobs(
                owner,
                JobUpdate::Patches(&[JobBulkPatch { id: job, patch }]),
            )
            .await
            .unwrap();
    }
    assert_eq!(busy().await, 3.0);
    // A node count patched on a running job pushes the counts, though no state moved.
    assert_eq!(pushed_running_nodes(store, owner).await, 3.0);

    // Packed jobs weigh num_nodes / node_packing_count, as on the chart.
    let packed = store
        .create_jobs(
            owner,
            &jobs(json!([{"workdir": "packed", "app_id": app, "node_packing_count": 3}])),
        )
        .await
        .unwrap();
    run(
        store,
        owner,
        packed[0].id,
        &[("PREPROCESSED", ago(1)), ("RUNNING", ago(1))],
    )
    .await;
    assert_eq!(busy().await, 3.333);
    assert_eq!(pushed_running_nodes(store, owner).await, 3.333);
}

/// The `running_nodes` summed over the Sites of the owner's last pushed `state_counts`
/// change, checked against what `GET /jobs/state-counts` answers now.
async fn pushed_running_nodes(store: &dyn Store, owner: UserId) -> f64 {
    let page = store
        .events_after(owner, 0, 100_000, usize::MAX)
        .await
        .unwrap();
    let last = page
        .events
        .iter()
        .rev()
        .map(|e| serde_json::from_str::<serde_json::Value>(&e.payload).unwrap())
        .find(|v| v["type"] == "state_counts")
        .expect("a state_counts change");
    let now = serde_json::to_value(store.job_state_counts(owner).await.unwrap()).unwrap();
    assert_eq!(
        last["data"], now,
        "the pushed counts are those of the database"
    );
    now.as_array()
        .unwrap()
        .iter()
        .map(|site| site["running_nodes"].as_f64().unwrap())
        .sum()
}
