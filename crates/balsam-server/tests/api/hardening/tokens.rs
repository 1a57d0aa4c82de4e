//! Tokens are revocable: a deleted user, a password change or a logout ends them on REST
//! and on websockets, and both websocket protocols close when a token expires.
//!
//! Repetition note: each test spells out its requests and assertions step by step, so
//! tests here and in the other API test files look alike on purpose.

use crate::support::{TestApp, TestUser};
use crate::ws::{close_code, connect, hello};
use futures::SinkExt;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

/// The store the app uses, to change users behind its back (as `balsam-server user` does).
async fn store(app: &TestApp) -> std::sync::Arc<dyn balsam_store::Store> {
    balsam_store::connect(&app.database_url, 2).await.unwrap()
}

/// Polls `path` until it answers 401, for at most `within`.
async fn refused_within(app: &TestApp, user: &TestUser, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let r = app.get("/sites/", user).await;
        if r.status == StatusCode::UNAUTHORIZED {
            assert_eq!(r.body, json!({"detail": "Could not validate credentials"}));
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "still {} after {within:?}",
            r.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_token_whose_user_was_deleted_is_a_401_on_reads_and_writes() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    assert_eq!(app.get("/sites/", &user).await.status, StatusCode::OK);
    let store = store(&app).await;
    store.delete_user(&user.username).await.unwrap();
    refused_within(&app, &user, Duration::from_secs(2)).await;
    let write = app
        .post("/sites/", &user, json!({"name": "n", "path": "/p"}))
        .await;
    assert_eq!(write.status, StatusCode::UNAUTHORIZED, "{}", write.text);
    store.close().await;
    app.stop().await;
}

#[tokio::test]
async fn password_change_and_logout_revoke_tokens_on_rest_and_websockets() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let (mut socket, _) = hello(&app, &user, None).await;
    let store = store(&app).await;
    let hash = balsam_server::auth::password::hash("new-password-1").unwrap();
    store
        .set_user_password(&user.username, &hash)
        .await
        .unwrap();
    let took = refused_within(&app, &user, Duration::from_secs(2)).await;
    assert!(took < Duration::from_millis(1500), "{took:?}");
    assert_eq!(
        close_code(&mut socket, Duration::from_secs(3)).await,
        Some(CloseCode::Library(4001))
    );
    store.close().await;

    // Logout revokes every token the user had, at once on this replica.
    let token = app.login(&user.username, "new-password-1").await;
    let user = TestUser { token, ..user };
    let other = app.login(&user.username, "new-password-1").await;
    assert_eq!(app.get("/sites/", &user).await.status, StatusCode::OK);
    let out = app
        .call(Method::POST, "/auth/logout", Some(&user.token), None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text);
    assert_eq!(
        app.get("/sites/", &user).await.status,
        StatusCode::UNAUTHORIZED
    );
    let other = TestUser {
        token: other,
        ..user
    };
    assert_eq!(
        app.get("/sites/", &other).await.status,
        StatusCode::UNAUTHORIZED
    );
    // A new login works again.
    let fresh = app.login(&other.username, "new-password-1").await;
    let fresh = TestUser {
        token: fresh,
        ..other
    };
    assert_eq!(app.get("/sites/", &fresh).await.status, StatusCode::OK);
    app.stop().await;
}

/// A token of `user` for the app's secret that expires in `secs`.
fn short_token(app: &TestApp, user: &TestUser, secs: i64) -> String {
    let secret = std::fs::read_to_string(app.data_dir.path().join("jwt-secret")).unwrap();
    let claims = json!({"sub": user.id, "username": user.username, "gen": 0,
        "exp": chrono::Utc::now().timestamp() + secs});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.trim().as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn both_websocket_protocols_close_when_the_token_expires() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let short = TestUser {
        token: short_token(&app, &user, 2),
        ..user
    };
    let mut upstream = connect(&app).await;
    upstream
        .send(Message::Text(short.token.clone().into()))
        .await
        .unwrap();
    let (mut ours, _) = hello(&app, &short, None).await;
    assert_eq!(
        close_code(&mut upstream, Duration::from_secs(5)).await,
        Some(CloseCode::Policy)
    );
    assert_eq!(
        close_code(&mut ours, Duration::from_secs(2)).await,
        Some(CloseCode::Library(4002))
    );
    app.stop().await;
}
