//! Repetition note: each story sets up and checks its own world, spelled out, so a failing
//! story reads on its own; shared fixtures live in `support.rs` and `jobs.rs`.

use crate::jobs::{jobs, world};
use balsam_store::{JobUpdate, Store};
use balsam_types::{JobPatch, JobQuery, UserId};
use serde_json::{json, Value};

async fn log(store: &dyn Store, owner: UserId, after: i64) -> Vec<(i64, Value)> {
    let page = store
        .events_after(owner, after, 10_000, usize::MAX)
        .await
        .unwrap();
    page.events
        .into_iter()
        .map(|e| (e.seq, serde_json::from_str(&e.payload).unwrap()))
        .collect()
}

fn summary(entries: &[(i64, Value)]) -> Vec<String> {
    entries
        .iter()
        .map(|(_, v)| {
            format!(
                "{} {}",
                v["action"].as_str().unwrap(),
                v["type"].as_str().unwrap()
            )
        })
        .collect()
}

pub async fn every_change_is_logged_in_order_with_full_instances(store: &dyn Store) {
    let (owner, site_id, app) = world(store).await;
    let (other, _, _) = world(store).await;
    let setup = log(store, owner, 0).await;
    assert_eq!(summary(&setup), ["create site", "create app"]);
    assert_eq!(setup.iter().map(|e| e.0).collect::<Vec<_>>(), [1, 2]);

    let created = store
        .create_jobs(
            owner,
            &jobs(json!([{"workdir": "a", "app_id": app,
            "transfers": {"inp": {"location_alias": "laptop", "path": "/in"}}}])),
        )
        .await
        .unwrap();
    let entries = log(store, owner, 2).await;
    assert_eq!(
        summary(&entries),
        [
            "bulk-create job",
            "bulk-create transfer_item",
            "bulk-create log_event",
            "update state_counts"
        ]
    );
    assert_eq!(
        entries[0].1["data"][0],
        serde_json::to_value(&created[0]).unwrap()
    );
    // The counts after the commit, exactly what GET /jobs/state-counts answers.
    assert_eq!(
        entries[3].1["data"],
        serde_json::to_value(store.job_state_counts(owner).await.unwrap()).unwrap()
    );
    assert_eq!(
        entries[3].1["data"],
        json!([{"site_id": site_id, "counts": {"READY": 1}, "running_nodes": 0.0}])
    );

    // A failed request logs nothing.
    let bad = JobPatch::from_json(&json!({"state": "FAILED"})).unwrap();
    assert!(store
        .update_jobs(owner, JobUpdate::One(987_654, &bad))
        .await
        .is_err());
    assert_eq!(
        store
            .events_after(owner, 0, 100, usize::MAX)
            .await
            .unwrap()
            .head,
        6
    );

    let q = JobQuery::default();
    store
        .update_jobs(owner, JobUpdate::Query(&q, &bad))
        .await
        .unwrap();
    let entries = log(store, owner, 6).await;
    assert_eq!(
        summary(&entries),
        [
            "bulk-update job",
            "bulk-create log_event",
            "update state_counts"
        ]
    );
    assert_eq!(entries[0].1["data"][0]["state"], "FAILED");
    assert_eq!(
        entries[2].1["data"],
        json!([{"site_id": site_id, "counts": {"FAILED": 1}, "running_nodes": 0.0}])
    );

    store.delete_site(owner, site_id).await.unwrap();
    let entries = log(store, owner, 9).await;
    assert_eq!(
        summary(&entries),
        [
            "bulk-delete log_event",
            "bulk-delete transfer_item",
            "bulk-delete job",
            "delete app",
            "delete site",
            "update state_counts"
        ]
    );
    assert_eq!(entries[5].1["data"], json!([]), "no Site has jobs left");
    assert_eq!(entries[2].1["data"], json!({"ids": [created[0].id]}));
    assert_eq!(entries[1].1["data"]["ids"].as_array().unwrap().len(), 1);
    assert_eq!(entries[0].1["data"]["ids"].as_array().unwrap().len(), 2);
    let seqs: Vec<i64> = log(store, owner, 0).await.iter().map(|e| e.0).collect();
    assert_eq!(seqs, (1..=15).collect::<Vec<_>>(), "gap-free");

    // Another user's log is their own.
    assert_eq!(
        summary(&log(store, other, 0).await),
        ["create site", "create app"]
    );
}

pub async fn pruning_moves_the_first_available_sequence(store: &dyn Store) {
    let (owner, _, app) = world(store).await;
    store
        .create_jobs(owner, &jobs(json!([{"workdir": "a", "app_id": app}])))
        .await
        .unwrap();
    let before = store.events_after(owner, 0, 100, usize::MAX).await.unwrap();
    assert_eq!(
        (before.first_available, before.head),
        (1, 5),
        "site, app, job, log event, state counts"
    );
    store
        .prune_event_log(balsam_types::time::now() - chrono::Duration::hours(1), 2)
        .await
        .unwrap();
    let after = store.events_after(owner, 0, 100, usize::MAX).await.unwrap();
    assert_eq!((after.first_available, after.head), (4, 5));
    assert_eq!(
        after.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [4, 5]
    );
    store
        .prune_event_log(
            balsam_types::time::now() + chrono::Duration::seconds(1),
            1_000,
        )
        .await
        .unwrap();
    let empty = store.events_after(owner, 0, 100, usize::MAX).await.unwrap();
    assert_eq!(
        (empty.first_available, empty.head, empty.events.len()),
        (6, 5, 0)
    );
    let listed = store
        .list_jobs(owner, &JobQuery::default(), balsam_types::Page::default())
        .await
        .unwrap();
    assert_eq!(
        listed.seq, 5,
        "list responses carry the sequence they reflect"
    );
}

/// Concurrent writers of one owner: the last `state_counts` change in the log equals the
/// counts the store answers once they are done (each commit's counts are read after the
/// owner's earlier commits landed, so the log's order is the counts' order).
pub async fn pushed_counts_follow_concurrent_writers(store: std::sync::Arc<dyn Store>) {
    let (owner, _, app) = world(store.as_ref()).await;
    let mut tasks = Vec::new();
    for w in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..5 {
                let created = store
                    .create_jobs(
                        owner,
                        &jobs(
                            json!([{"workdir": format!("w{w}-{round}-a"), "app_id": app},
                                     {"workdir": format!("w{w}-{round}-b"), "app_id": app}]),
                        ),
                    )
                    .await
                    .unwrap();
                let to = if round % 2 == 0 {
                    "PREPROCESSED"
                } else {
                    "FAILED"
                };
                let patch = JobPatch::from_json(&json!({ "state": to })).unwrap();
                store
                    .update_jobs(owner, JobUpdate::One(created[0].id, &patch))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let entries = log(store.as_ref(), owner, 0).await;
    let seqs: Vec<i64> = entries.iter().map(|e| e.0).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "gap-free"
    );
    let last = entries
        .iter()
        .rev()
        .find(|(_, v)| v["type"] == "state_counts")
        .expect("a state_counts change");
    let now = serde_json::to_value(store.job_state_counts(owner).await.unwrap()).unwrap();
    assert_eq!(last.1["data"], now);
    let total: i64 = now[0]["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_i64().unwrap())
        .sum();
    assert_eq!(total, 40, "4 writers x 5 rounds x 2 jobs");
}

pub async fn replay_pages_are_cut_by_bytes(store: &dyn Store) {
    let (owner, _, app) = world(store).await;
    for i in 0..4 {
        let many: Vec<Value> = (0..50)
            .map(|j| json!({"workdir": format!("w{i}/{j}"), "app_id": app}))
            .collect();
        store.create_jobs(owner, &jobs(json!(many))).await.unwrap();
    }
    let all = store
        .events_after(owner, 0, 1_000, usize::MAX)
        .await
        .unwrap();
    let sizes: Vec<usize> = all.events.iter().map(|e| e.payload.len()).collect();
    let big = *sizes.iter().max().unwrap();
    assert!(big > 10_000, "{sizes:?}");
    // A budget of one big entry: pages never exceed it, except a single entry larger
    // than it, and together they are the whole log in order.
    let (mut after, mut seen) = (0, Vec::new());
    loop {
        let page = store.events_after(owner, after, 1_000, big).await.unwrap();
        let Some(last) = page.events.last() else {
            break;
        };
        let bytes: usize = page.events.iter().map(|e| e.payload.len()).sum();
        assert!(bytes <= big || page.events.len() == 1, "{bytes} > {big}");
        after = last.seq;
        seen.extend(page.events.iter().map(|e| e.seq));
    }
    assert_eq!(seen, all.events.iter().map(|e| e.seq).collect::<Vec<_>>());
    // A budget smaller than any entry still moves one entry at a time.
    let one = store.events_after(owner, 0, 1_000, 1).await.unwrap();
    assert_eq!(one.events.len(), 1);
    assert_eq!(one.events[0], all.events[0]);
    // The count limit still applies under a large budget.
    let two = store.events_after(owner, 0, 2, usize::MAX).await.unwrap();
    assert_eq!(two.events, all.events[..2]);
    assert_eq!(two.head, all.head);
}
