//! A socket's life: isolation between users, named close codes for tokens, pings and
//! heartbeats while idle, going-away on shutdown.
//!
//! Repetition note: each test spells out its requests and assertions step by step, so
//! tests here and in the other API test files look alike on purpose.

use super::{close_code, connect, events, hello, quiet, send_json, upstream, world};
use crate::support::TestApp;
use futures::{SinkExt, StreamExt};
use serde_json::json;
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

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
    send_json(&mut bad, json!({"op": "hello", "token": "nope"})).await;
    assert_eq!(
        close_code(&mut bad, Duration::from_secs(5)).await,
        Some(CloseCode::Library(4001))
    );
    let mut silent = connect(&app).await;
    assert_eq!(
        close_code(&mut silent, Duration::from_secs(5)).await,
        Some(CloseCode::Library(4003))
    );
    let mut garbled = connect(&app).await;
    garbled
        .send(Message::Text("{\"op\": \"bye\"}".into()))
        .await
        .unwrap();
    assert_eq!(
        close_code(&mut garbled, Duration::from_secs(5)).await,
        Some(CloseCode::Library(4004))
    );
    drop(user);
    app.stop().await;

    let app = TestApp::spawn_with(|c| c.auth.token_ttl_hours = 0).await;
    let user = app.new_user().await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut expired = connect(&app).await;
    send_json(&mut expired, json!({"op": "hello", "token": user.token})).await;
    assert_eq!(
        close_code(&mut expired, Duration::from_secs(5)).await,
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
    assert_eq!(
        close_code(&mut socket, Duration::from_secs(5)).await,
        Some(CloseCode::Away)
    );
    stopping.await.unwrap();
}
