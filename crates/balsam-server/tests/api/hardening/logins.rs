//! Registration and login: password rules, rate limits per account and address, equal
//! refusal times, and a bounded hashing pool.
//!
//! Repetition note: each test spells out its requests and assertions step by step, so
//! tests here and in the other API test files look alike on purpose.

use super::first_error;
use crate::support::TestApp;

use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn registration_refuses_empty_common_and_too_short_passwords() {
    let app = TestApp::spawn_with(|c| c.auth.min_password_length = 8).await;
    for (password, why) in [
        ("", "empty"),
        ("   ", "empty"),
        ("Password", "common"),
        ("short", "at least 8"),
    ] {
        let r = app
            .call(
                Method::POST,
                "/auth/password/register",
                None,
                Some(json!({"username": format!("u-{why}"), "password": password})),
            )
            .await;
        assert_eq!(
            first_error(&r),
            (
                json!(["body", "password"]),
                json!("value_error.password.policy")
            )
        );
        assert!(
            r.body["detail"][0]["msg"].as_str().unwrap().contains(why),
            "{}",
            r.text
        );
    }
    app.stop().await;
}

async fn login_status(
    app: &TestApp,
    username: &str,
    password: &str,
) -> (StatusCode, Option<String>) {
    let res = app
        .client
        .post(format!("{}/auth/password/login", app.base))
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status(), retry)
}

#[tokio::test]
async fn logins_are_rate_limited_per_account_and_per_address() {
    let app = TestApp::spawn_with(|c| {
        c.auth.login_account_free_failures = 2;
        c.auth.login_address_free_failures = 5;
    })
    .await;
    let user = app.new_user().await;
    for _ in 0..3 {
        assert_eq!(
            login_status(&app, &user.username, "wrong").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    // The third failure started a wait: even the right password waits.
    let (status, retry) = login_status(&app, &user.username, "pw-secret").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry.as_deref(), Some("1"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        login_status(&app, &user.username, "pw-secret").await.0,
        StatusCode::OK
    );
    // Guessing over many accounts from one address hits the address's allowance.
    for i in 0..3 {
        login_status(&app, &format!("nobody-{i}"), "x").await;
    }
    let (status, retry) = login_status(&app, "nobody-else", "x").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry.is_some());
    app.stop().await;
}

#[tokio::test]
async fn unknown_users_take_as_long_to_refuse_as_known_ones() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let mut known = Duration::MAX;
    let mut unknown = Duration::MAX;
    for i in 0..3 {
        let t = Instant::now();
        login_status(&app, &user.username, "wrong").await;
        known = known.min(t.elapsed());
        let t = Instant::now();
        login_status(&app, &format!("nobody-{i}"), "wrong").await;
        unknown = unknown.min(t.elapsed());
    }
    assert!(unknown * 2 > known, "unknown {unknown:?}, known {known:?}");
    app.stop().await;
}

#[tokio::test]
async fn password_hashing_is_bounded_and_sheds_load_with_503() {
    let app = TestApp::spawn_with(|c| {
        c.auth.max_concurrent_hashes = 1;
        c.auth.hash_queue_secs = 0;
    })
    .await;
    let user = app.new_user().await;
    let attempts = (0..8).map(|_| login_status(&app, &user.username, "pw-secret"));
    let results = futures::future::join_all(attempts).await;
    let busy: Vec<_> = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(!busy.is_empty(), "{results:?}");
    assert!(busy.iter().all(|(_, retry)| retry.is_some()));
    assert!(results.iter().any(|(s, _)| *s == StatusCode::OK));
    app.stop().await;
}

#[tokio::test]
async fn registrations_are_limited_per_address() {
    let app = TestApp::spawn_with(|c| c.auth.registrations_per_address_per_hour = 2).await;
    app.new_user().await;
    app.new_user().await;
    let r = app
        .call(
            Method::POST,
            "/auth/password/register",
            None,
            Some(json!({"username": "third", "password": "pw-secret"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert!(r.headers.contains_key("retry-after"));
    app.stop().await;
}
