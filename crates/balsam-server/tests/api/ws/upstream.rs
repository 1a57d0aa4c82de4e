//! Upstream's protocol: the raw token first, then binary frames with full instances.

use super::{close_code, connect, next_json, quiet, upstream};
use crate::support::TestApp;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

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
    assert_eq!(
        close_code(&mut bad, Duration::from_secs(5)).await,
        Some(CloseCode::Policy)
    );
    app.stop().await;
}
