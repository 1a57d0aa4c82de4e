//! The event stream on a real socket: both protocols, resume, resync, isolation, codes.

use crate::support::{TestApp, TestUser};
use futures::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn connect(app: &TestApp) -> Socket {
    let url = format!(
        "{}/subscribe-user",
        app.base.replacen("http://", "ws://", 1)
    );
    let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    socket
}

/// Connects with our protocol; returns the socket and the welcome frame.
pub async fn hello(app: &TestApp, user: &TestUser, last_seq: Option<i64>) -> (Socket, Value) {
    let mut socket = connect(app).await;
    let frame = json!({"op": "hello", "token": user.token, "last_seq": last_seq});
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    let welcome = next_json(&mut socket).await.expect("welcome");
    assert_eq!(welcome["op"], "welcome", "{welcome}");
    (socket, welcome)
}

/// The next text or binary JSON frame, skipping pings; `None` on close or after 5 s.
pub async fn next_json(socket: &mut Socket) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .ok()??
            .ok()?;
        match msg {
            Message::Text(t) => return serde_json::from_str(&t).ok(),
            Message::Binary(b) => return serde_json::from_slice(&b).ok(),
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

/// Event frames (skipping control frames) until `n` have arrived.
pub async fn events(socket: &mut Socket, n: usize) -> Vec<Value> {
    let mut out = Vec::new();
    while out.len() < n {
        let frame = next_json(socket)
            .await
            .unwrap_or_else(|| panic!("only {} of {n} events: {out:?}", out.len()));
        if frame.get("op").is_none() {
            out.push(frame);
        }
    }
    out
}

/// Nothing more arrives within `ms` (control frames aside).
pub async fn quiet(socket: &mut Socket, ms: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, socket.next()).await {
        if let Message::Text(t) = &msg {
            let v: Value = serde_json::from_str(t).unwrap();
            assert!(v.get("op").is_some(), "unexpected event {v}");
        }
        assert!(
            !matches!(msg, Message::Binary(_)),
            "unexpected event {msg:?}"
        );
    }
}

async fn close_code(socket: &mut Socket) -> Option<CloseCode> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .ok()?
        {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code),
            Some(Ok(_)) => {}
            _ => return None,
        }
    }
}

fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["action"].as_str().unwrap(),
                e["type"].as_str().unwrap()
            )
        })
        .collect()
}

async fn world(app: &TestApp, user: &TestUser) -> (Value, Value) {
    let site = app
        .post(
            "/sites/",
            user,
            json!({"name": "s", "path": "/s", "transfer_locations": {"laptop": "globus://x"}}),
        )
        .await
        .body;
    let a = app
        .post(
            "/apps/",
            user,
            json!({"site_id": site["id"], "name": "A", "serialized_class": "x", "source_code": "y",
            "transfers": {"inp": {"required": false, "direction": "in", "local_path": "in.dat"}}}),
        )
        .await
        .body;
    (site, a)
}

/// A socket on the upstream protocol (the raw token as the first frame), subscribed.
///
/// The upstream protocol says nothing once it has subscribed (an event committed before
/// then is not sent, as upstream). The server reads the next frame only once subscribed, so
/// the pong to a ping sent after the token is the sign to go on.
async fn upstream(app: &TestApp, user: &TestUser) -> Socket {
    let mut socket = connect(app).await;
    socket
        .send(Message::Text(user.token.clone().into()))
        .await
        .unwrap();
    socket
        .send(Message::Ping(b"sync".to_vec().into()))
        .await
        .unwrap();
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a pong once subscribed")
            .unwrap()
            .unwrap();
        if matches!(frame, Message::Pong(_)) {
            return socket;
        }
    }
}

#[tokio::test]
async fn upstream_protocol_gets_binary_full_instances() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let mut socket = upstream(&app, &user).await;
    let site = app
        .post("/sites/", &user, json!({"name": "s", "path": "/s"}))
        .await
        .body;
    let msg = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let Message::Binary(bytes) = msg else {
        panic!("upstream frames are binary: {msg:?}")
    };
    let event: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        event,
        json!({"action": "create", "type": "site", "data": site})
    );
    let updated = app
        .put(
            &format!("/sites/{}", site["id"]),
            &user,
            json!({"path": "/t"}),
        )
        .await
        .body;
    let event = next_json(&mut socket).await.unwrap();
    assert_eq!(
        event,
        json!({"action": "update", "type": "site", "data": updated}),
        "full instance, not a patch"
    );
    // Our pushed state counts are not upstream's: its protocol never carries them.
    let a = app
        .post(
            "/apps/",
            &user,
            json!({"site_id": site["id"], "name": "a", "serialized_class": "x", "source_code": "x"}),
        )
        .await
        .body;
    assert_eq!(next_json(&mut socket).await.unwrap()["type"], "app");
    app.post(
        "/jobs/",
        &user,
        json!([{"workdir": "w", "app_id": a["id"]}]),
    )
    .await;
    let kinds: Vec<Value> = [
        next_json(&mut socket).await.unwrap(),
        next_json(&mut socket).await.unwrap(),
    ]
    .iter()
    .map(|e| e["type"].clone())
    .collect();
    assert_eq!(kinds, [json!("job"), json!("log_event")]);
    quiet(&mut socket, 300).await;

    let mut bad = connect(&app).await;
    bad.send(Message::Text("not-a-token".into())).await.unwrap();
    assert_eq!(close_code(&mut bad).await, Some(CloseCode::Policy));
    app.stop().await;
}

#[tokio::test]
async fn every_mutation_emits_its_event_with_full_instances() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let (mut socket, welcome) = hello(&app, &user, None).await;
    assert_eq!(
        (welcome["seq"].as_i64(), welcome["resumed"].as_bool()),
        (Some(0), Some(false))
    );

    let (site, a) = world(&app, &user).await;
    let got = events(&mut socket, 2).await;
    assert_eq!(kinds(&got), ["create site", "create app"]);
    assert_eq!(got[1]["data"], a);
    assert_eq!(
        (got[0]["seq"].as_i64(), got[1]["seq"].as_i64()),
        (Some(1), Some(2))
    );

    let jobs = app
        .post("/jobs/", &user, json!([{"workdir": "1", "app_id": a["id"], "transfers": {"inp": {"location_alias": "laptop", "path": "/in"}}},
                                      {"workdir": "2", "app_id": a["id"]}]))
        .await
        .body;
    let got = events(&mut socket, 4).await;
    assert_eq!(
        kinds(&got),
        [
            "bulk-create job",
            "bulk-create transfer_item",
            "bulk-create log_event",
            "update state_counts"
        ]
    );
    assert_eq!(got[0]["data"], jobs);
    assert_eq!(
        got[3]["data"],
        app.get("/jobs/state-counts", &user).await.body,
        "the pushed counts are the counts after the commit"
    );
    let j2 = jobs[1]["id"].clone();

    let steps: Vec<(Method, String, Value, Vec<&str>)> = vec![
        (
            Method::PATCH,
            "/jobs/".into(),
            json!([{"id": j2, "state": "PREPROCESSED"}]),
            vec![
                "bulk-update job",
                "bulk-create log_event",
                "update state_counts",
            ],
        ),
        (
            Method::PUT,
            format!("/jobs/{j2}"),
            json!({"tags": {"k": "v"}}),
            vec!["bulk-update job"],
        ),
        (
            Method::PUT,
            "/jobs/?workdir__contains=2".into(),
            json!({"num_nodes": 2}),
            vec!["bulk-update job"],
        ),
        (
            Method::POST,
            "/batch-jobs/".into(),
            json!({"site_id": site["id"], "project": "p", "queue": "q", "num_nodes": 1, "wall_time_min": 5, "job_mode": "serial"}),
            vec!["create batch_job"],
        ),
        (
            Method::POST,
            "/sessions/".into(),
            json!({"site_id": site["id"]}),
            vec!["create session"],
        ),
    ];
    for (method, path, body, expected) in steps {
        let r = app
            .call(method.clone(), &path, Some(&user.token), Some(body))
            .await;
        assert!(r.status.is_success(), "{method} {path}: {}", r.text);
        let got = events(&mut socket, expected.len()).await;
        assert_eq!(kinds(&got), expected, "{method} {path}");
        if method == Method::POST {
            assert_eq!(
                got[0]["data"], r.body,
                "the event carries what the response carries"
            );
        }
    }
    let sessions = app.get("/sessions/", &user).await.body;
    let sid = sessions["results"][0]["id"].clone();
    let acquired = app
        .post(
            &format!("/sessions/{sid}"),
            &user,
            json!({"max_num_jobs": 5, "filter_tags": {}}),
        )
        .await
        .body;
    let got = events(&mut socket, 2).await;
    assert_eq!(kinds(&got), ["bulk-update job", "update session"]);
    assert_eq!(got[0]["data"], acquired);
    app.put(&format!("/sessions/{sid}"), &user, json!({})).await;
    assert_eq!(kinds(&events(&mut socket, 1).await), ["update session"]);
    app.put(&format!("/jobs/{j2}"), &user, json!({"state": "RUNNING"}))
        .await;
    events(&mut socket, 3).await;
    app.delete(&format!("/sessions/{sid}"), &user).await;
    let got = events(&mut socket, 4).await;
    assert_eq!(
        kinds(&got),
        [
            "bulk-update job",
            "bulk-create log_event",
            "delete session",
            "update state_counts"
        ]
    );
    assert_eq!(got[0]["data"][0]["state"], "RUN_TIMEOUT");

    let items = app.get("/transfers/", &user).await.body;
    let item = items["results"][0]["id"].clone();
    app.call(
        Method::PATCH,
        "/transfers/",
        Some(&user.token),
        Some(json!([{"id": item, "state": "done"}])),
    )
    .await;
    let got = events(&mut socket, 4).await;
    assert_eq!(
        kinds(&got),
        [
            "bulk-update transfer_item",
            "bulk-update job",
            "bulk-create log_event",
            "update state_counts"
        ]
    );
    assert_eq!(got[1]["data"][0]["state"], "STAGED_IN");

    app.delete(&format!("/jobs/{j2}"), &user).await;
    let got = events(&mut socket, 3).await;
    assert_eq!(
        kinds(&got),
        [
            "bulk-delete log_event",
            "bulk-delete job",
            "update state_counts"
        ]
    );
    assert_eq!(got[1]["data"], json!({"ids": [j2]}));

    // A cascading Site delete: the client hears of every removed row.
    app.delete(&format!("/sites/{}", site["id"]), &user).await;
    let got = events(&mut socket, 7).await;
    assert_eq!(
        kinds(&got),
        [
            "bulk-delete log_event",
            "bulk-delete transfer_item",
            "bulk-delete job",
            "delete batch_job",
            "delete app",
            "delete site",
            "update state_counts"
        ]
    );
    assert_eq!(got[6]["data"], json!([]));
    let seqs: Vec<i64> = got.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "consecutive: {seqs:?}"
    );
    quiet(&mut socket, 300).await;
    app.stop().await;
}

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
    let mut socket = connect(app).await;
    let frame = json!({"op": "hello", "token": user.token, "last_seq": last_seq, "epoch": epoch});
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    let welcome = next_json(&mut socket).await.expect("welcome");
    assert_eq!(welcome["op"], "welcome", "{welcome}");
    (socket, welcome)
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

#[tokio::test]
async fn users_never_receive_each_others_events_in_either_protocol() {
    let app = TestApp::spawn().await;
    let alice = app.new_user().await;
    let bob = app.new_user().await;
    let (mut bob_seq, _) = hello(&app, &bob, None).await;
    let mut bob_up = upstream(&app, &bob).await;
    let (mut alice_seq, _) = hello(&app, &alice, None).await;
    world(&app, &alice).await;
    assert_eq!(events(&mut alice_seq, 2).await.len(), 2);
    quiet(&mut bob_seq, 500).await;
    quiet(&mut bob_up, 100).await;
    // Bob's own change reaches him with his own numbering.
    app.post("/sites/", &bob, json!({"name": "b", "path": "/b"}))
        .await;
    assert_eq!(events(&mut bob_seq, 1).await[0]["seq"], 1);
    app.stop().await;
}

#[tokio::test]
async fn bad_expired_and_missing_tokens_close_with_named_codes() {
    let app = TestApp::spawn_with(|c| c.ws.auth_timeout_secs = 1).await;
    let user = app.new_user().await;
    let mut bad = connect(&app).await;
    bad.send(Message::Text(
        json!({"op": "hello", "token": "nope"}).to_string().into(),
    ))
    .await
    .unwrap();
    assert_eq!(close_code(&mut bad).await, Some(CloseCode::Library(4001)));
    let mut silent = connect(&app).await;
    assert_eq!(
        close_code(&mut silent).await,
        Some(CloseCode::Library(4003))
    );
    let mut garbled = connect(&app).await;
    garbled
        .send(Message::Text("{\"op\": \"bye\"}".into()))
        .await
        .unwrap();
    assert_eq!(
        close_code(&mut garbled).await,
        Some(CloseCode::Library(4004))
    );
    drop(user);
    app.stop().await;

    let app = TestApp::spawn_with(|c| c.auth.token_ttl_hours = 0).await;
    let user = app.new_user().await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut expired = connect(&app).await;
    expired
        .send(Message::Text(
            json!({"op": "hello", "token": user.token})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    assert_eq!(
        close_code(&mut expired).await,
        Some(CloseCode::Library(4002))
    );
    app.stop().await;
}

#[tokio::test]
async fn idle_sockets_get_pings_and_heartbeats() {
    let app = TestApp::spawn_with(|c| c.ws.ping_interval_secs = 1).await;
    let user = app.new_user().await;
    let (mut socket, _) = hello(&app, &user, None).await;
    let (mut pings, mut heartbeats) = (0, 0);
    let deadline = tokio::time::Instant::now() + Duration::from_millis(2600);
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, socket.next()).await {
        match msg {
            Message::Ping(_) => pings += 1,
            Message::Text(t) if t.contains("heartbeat") => heartbeats += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        pings >= 2 && heartbeats >= 2,
        "pings {pings}, heartbeats {heartbeats}"
    );
    app.stop().await;
}

#[tokio::test]
async fn shutdown_closes_sockets_with_going_away() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let (mut socket, _) = hello(&app, &user, None).await;
    let stopping = tokio::spawn(app.stop());
    assert_eq!(close_code(&mut socket).await, Some(CloseCode::Away));
    stopping.await.unwrap();
}

#[tokio::test]
async fn list_responses_carry_the_sequence_they_reflect() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    world(&app, &user).await;
    let r = app.get("/sites/", &user).await;
    assert_eq!(r.headers["x-balsam-seq"], "2");
    let r = app.get("/jobs/", &user).await;
    assert_eq!(r.headers["x-balsam-seq"], "2");
    app.stop().await;
}

#[tokio::test]
async fn the_remaining_mutations_emit_their_events_too() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let (site, a) = world(&app, &user).await;
    let (mut socket, _) = hello(&app, &user, Some(2)).await;

    let bj = app
        .post(
            "/batch-jobs/",
            &user,
            json!({"site_id": site["id"], "project": "p", "queue": "q",
            "num_nodes": 1, "wall_time_min": 5, "job_mode": "mpi"}),
        )
        .await
        .body;
    let jobs = app
        .post("/jobs/", &user, json!([{"workdir": "1", "app_id": a["id"], "transfers": {"inp": {"location_alias": "laptop", "path": "/in"}}},
                                      {"workdir": "2", "app_id": a["id"]}]))
        .await
        .body;
    events(&mut socket, 5).await;
    let j2 = jobs[1]["id"].clone();
    let item = app.get("/transfers/", &user).await.body["results"][0]["id"].clone();

    let steps: Vec<(Method, String, Value, Vec<&str>)> = vec![
        (
            Method::PUT,
            format!("/apps/{}", a["id"]),
            json!({"description": "d"}),
            vec!["update app"],
        ),
        (
            Method::PUT,
            format!("/batch-jobs/{}", bj["id"]),
            json!({"state": "queued"}),
            vec!["update batch_job"],
        ),
        (
            Method::PATCH,
            "/batch-jobs/".into(),
            json!([{"id": bj["id"], "state": "running"}]),
            vec!["update batch_job"],
        ),
        (
            Method::PUT,
            format!("/jobs/{j2}"),
            json!({"batch_job_id": bj["id"]}),
            vec!["bulk-update job"],
        ),
        (
            Method::DELETE,
            format!("/batch-jobs/{}", bj["id"]),
            Value::Null,
            vec!["bulk-update job", "delete batch_job"],
        ),
        (
            Method::PUT,
            format!("/transfers/{item}"),
            json!({"task_id": "t"}),
            vec!["bulk-update transfer_item"],
        ),
        (
            Method::DELETE,
            "/jobs/?workdir__contains=2".into(),
            Value::Null,
            vec![
                "bulk-delete log_event",
                "bulk-delete job",
                "update state_counts",
            ],
        ),
        (
            Method::DELETE,
            format!("/apps/{}", a["id"]),
            Value::Null,
            vec![
                "bulk-delete log_event",
                "bulk-delete transfer_item",
                "bulk-delete job",
                "delete app",
                "update state_counts",
            ],
        ),
    ];
    for (method, path, body, expected) in steps {
        let body = (!body.is_null()).then_some(body);
        let r = app
            .call(method.clone(), &path, Some(&user.token), body)
            .await;
        assert!(r.status.is_success(), "{method} {path}: {}", r.text);
        let got = events(&mut socket, expected.len()).await;
        assert_eq!(kinds(&got), expected, "{method} {path}");
        match (method.as_str(), expected[0]) {
            ("PUT", "update app" | "update batch_job") => assert_eq!(got[0]["data"], r.body),
            ("DELETE", "bulk-update job") => {
                assert_eq!(got[0]["data"][0]["batch_job_id"], Value::Null)
            }
            _ => {}
        }
    }
    quiet(&mut socket, 300).await;
    app.stop().await;
}
