//! Resuming: exactly the missed events, in order, once; `resync` past retention or from
//! another database.
//!
//! Repetition note: each test spells out its requests and assertions step by step, so
//! tests here and in the other API test files look alike on purpose.

use super::{events, hello, hello_with, kinds, next_json, quiet, world, Socket};
use crate::support::{TestApp, TestUser};
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn resume_replays_exactly_the_missed_events_in_order_once() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let (mut socket, _) = hello(&app, &user, None).await;
    let (site, a) = world(&app, &user).await;
    let seen = events(&mut socket, 2).await;
    let last = seen[1]["seq"].as_i64().unwrap();
    socket.close(None).await.unwrap();

    // While away: creates, updates, deletes and a cascading Site delete.
    let jobs = app
        .post(
            "/jobs/",
            &user,
            json!([{"workdir": "1", "app_id": a["id"]}]),
        )
        .await
        .body;
    app.put(
        &format!("/jobs/{}", jobs[0]["id"]),
        &user,
        json!({"state": "FAILED"}),
    )
    .await;
    let other = app
        .post("/sites/", &user, json!({"name": "other", "path": "/o"}))
        .await
        .body;
    app.delete(&format!("/sites/{}", site["id"]), &user).await;

    let (mut socket, welcome) = hello(&app, &user, Some(last)).await;
    assert_eq!(welcome["resumed"], true);
    let head = welcome["seq"].as_i64().unwrap();
    let missed = events(&mut socket, (head - last) as usize).await;
    let seqs: Vec<i64> = missed.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, ((last + 1)..=head).collect::<Vec<_>>());
    assert_eq!(
        kinds(&missed),
        [
            "bulk-create job",
            "bulk-create log_event",
            "update state_counts",
            "bulk-update job",
            "bulk-create log_event",
            "update state_counts",
            "create site",
            "bulk-delete log_event",
            "bulk-delete job",
            "delete app",
            "delete site",
            "update state_counts"
        ]
    );
    assert_eq!(missed[6]["data"], other);
    quiet(&mut socket, 300).await;
    // And live delivery continues after the replay.
    app.put(&format!("/sites/{}", other["id"]), &user, json!({}))
        .await;
    let live = events(&mut socket, 1).await;
    assert_eq!(live[0]["seq"].as_i64(), Some(head + 1));
    app.stop().await;
}

#[tokio::test]
async fn a_sequence_older_than_retention_gets_resync() {
    let app = TestApp::spawn_with(|c| {
        c.events.retention_hours = 0;
        c.events.prune_interval_secs = 1;
    })
    .await;
    let user = app.new_user().await;
    world(&app, &user).await;
    tokio::time::sleep(Duration::from_millis(1500)).await; // the pruner has run
    let (mut socket, welcome) = hello(&app, &user, Some(1)).await;
    assert_eq!(welcome["seq"], 2);
    // Nothing can be resumed: docs/realtime.md's `resumed: false`, then the resync.
    assert_eq!(welcome["resumed"], false, "{welcome}");
    let resync = next_json(&mut socket).await.unwrap();
    assert_eq!(resync, json!({"op": "resync", "seq": 2}));
    quiet(&mut socket, 300).await;
    app.stop().await;
}

/// Hello with `last_seq` counted under `epoch`; returns the socket and the welcome.
async fn hello_in(app: &TestApp, user: &TestUser, last_seq: i64, epoch: &Value) -> (Socket, Value) {
    let frame = json!({"op": "hello", "token": user.token, "last_seq": last_seq, "epoch": epoch});
    hello_with(app, frame).await
}

#[tokio::test]
async fn a_sequence_from_another_database_gets_resync_even_below_the_head() {
    // Two databases whose user 1 both have a log past seq 1: only the epoch tells them apart.
    let first = TestApp::spawn().await;
    let second = TestApp::spawn().await;
    let (a, b) = (first.new_user().await, second.new_user().await);
    assert_eq!(a.id, b.id);
    world(&first, &a).await;
    world(&second, &b).await;
    let (_s, welcome_a) = hello(&first, &a, None).await;
    let epoch_a = welcome_a["epoch"].clone();
    assert!(
        epoch_a.as_str().is_some_and(|e| e.len() >= 16),
        "{welcome_a}"
    );

    // The same database keeps its epoch: a resume there works.
    let (mut same, welcome) = hello_in(&first, &a, 1, &epoch_a).await;
    assert_eq!(
        (&welcome["resumed"], &welcome["epoch"]),
        (&json!(true), &epoch_a)
    );
    let head = welcome["seq"].as_i64().unwrap();
    assert_eq!(
        events(&mut same, (head - 1) as usize).await.len() as i64,
        head - 1
    );

    // Another database: its own epoch, and seq 1 (below its head 2) is not resumed.
    let (mut other, welcome) = hello_in(&second, &b, 1, &epoch_a).await;
    let head_b = welcome["seq"].as_i64().unwrap();
    assert!(head_b > 1, "{welcome}");
    assert_ne!(welcome["epoch"], epoch_a);
    assert_eq!(welcome["resumed"], false, "{welcome}");
    let resync = next_json(&mut other).await.unwrap();
    assert_eq!(resync, json!({"op": "resync", "seq": head_b}));
    quiet(&mut other, 300).await;

    // After a backup is restored the operator gives the log a new epoch
    // (`balsam-server new-log-epoch`): clients of the old one resync.
    let store = balsam_store::connect(&first.database_url, 1).await.unwrap();
    let renewed = store.new_log_epoch().await.unwrap();
    assert_ne!(json!(renewed), epoch_a);
    assert_eq!(json!(store.log_epoch().await.unwrap()), json!(renewed));
    store.close().await;
    let (mut restored, welcome) = hello_in(&first, &a, 1, &epoch_a).await;
    assert_eq!(
        (&welcome["resumed"], &welcome["epoch"]),
        (&json!(false), &json!(renewed))
    );
    assert_eq!(next_json(&mut restored).await.unwrap()["op"], "resync");
    first.stop().await;
    second.stop().await;
}
