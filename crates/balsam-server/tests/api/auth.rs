//! Registration, login and tokens on the wire.
//!
//! Repetition note: each test spells out its requests and assertions step by step, so
//! tests here and in the other API test files look alike on purpose.

use crate::support::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn auth_how_lists_the_python_enum_repr() {
    let app = TestApp::spawn().await;
    let r = app.call(Method::GET, "/auth/how", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, json!(["LoginMethod.password"]));
    app.stop().await;
}

#[tokio::test]
async fn register_login_and_me() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let me = app.get("/auth/password/me", &user).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body, json!({"id": user.id, "username": user.username}));

    let dup = app
        .call(
            Method::POST,
            "/auth/password/register",
            None,
            Some(json!({"username": user.username, "password": "another-password"})),
        )
        .await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST);
    assert_eq!(dup.body, json!({"detail": "Username already taken"}));

    let missing = app
        .call(
            Method::POST,
            "/auth/password/register",
            None,
            Some(json!({"username": "z"})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        missing.body,
        json!({"detail": [{"loc": ["body", "password"], "msg": "field required", "type": "value_error.missing"}]})
    );
    app.stop().await;
}

#[tokio::test]
async fn login_returns_a_naive_expiration_48_hours_out() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let res = app
        .client
        .post(format!("{}/auth/password/login", app.base))
        .form(&[
            ("username", user.username.as_str()),
            ("password", "pw-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    let expiration = body["expiration"].as_str().unwrap();
    // Naive: no offset, or the client's `expiry - utcnow()` raises TypeError.
    assert!(
        !expiration.contains('+') && !expiration.ends_with('Z'),
        "{expiration}"
    );
    let parsed = chrono::NaiveDateTime::parse_from_str(expiration, "%Y-%m-%dT%H:%M:%S%.f").unwrap();
    let hours = (parsed - chrono::Utc::now().naive_utc()).num_minutes() as f64 / 60.0;
    assert!((47.9..=48.0).contains(&hours), "{hours}");
    app.stop().await;
}

#[tokio::test]
async fn login_refuses_json_bodies_and_bad_passwords() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let json_body = app
        .call(
            Method::POST,
            "/auth/password/login",
            None,
            Some(json!({"username": user.username, "password": "pw-secret"})),
        )
        .await;
    assert_eq!(json_body.status, StatusCode::UNPROCESSABLE_ENTITY);
    let locs: Vec<_> = json_body.body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["loc"].clone())
        .collect();
    assert_eq!(
        locs,
        vec![json!(["body", "username"]), json!(["body", "password"])]
    );

    for (name, password) in [(user.username.as_str(), "wrong"), ("nobody", "pw-secret")] {
        let res = app
            .client
            .post(format!("{}/auth/password/login", app.base))
            .form(&[("username", name), ("password", password)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(res.headers().get("www-authenticate").is_none());
        assert_eq!(
            res.json::<serde_json::Value>().await.unwrap(),
            json!({"detail": "Unauthorized"})
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn protected_routes_need_a_valid_bearer_token() {
    let app = TestApp::spawn().await;
    let none = app.call(Method::GET, "/sites/", None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.body, json!({"detail": "Not authenticated"}));
    assert_eq!(none.headers["www-authenticate"], "Bearer");

    let bad = app
        .call(Method::GET, "/sites/", Some("not.a.token"), None)
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        bad.body,
        json!({"detail": "Could not validate credentials"})
    );

    let basic = app
        .client
        .get(format!("{}/sites/", app.base))
        .header("authorization", "Basic dXNlcjpwdw==")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);

    // The scheme is matched case-insensitively, as upstream does.
    let user = app.new_user().await;
    let lower = app
        .client
        .get(format!("{}/sites/", app.base))
        .header("authorization", format!("bearer {}", user.token))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let app = TestApp::spawn_with(|c| c.auth.token_ttl_hours = 0).await;
    let user = app.new_user().await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = app.get("/sites/", &user).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body, json!({"detail": "Could not validate credentials"}));
    app.stop().await;
}

#[tokio::test]
async fn registration_can_be_switched_off() {
    let app = TestApp::spawn_with(|c| c.auth.allow_registration = false).await;
    let r = app
        .call(
            Method::POST,
            "/auth/password/register",
            None,
            Some(json!({"username": "eve", "password": "pw"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body["detail"].as_str().unwrap().contains("user add"));
    app.stop().await;
}

#[tokio::test]
async fn the_signing_secret_is_generated_once_and_kept() {
    let app = TestApp::spawn().await;
    let path = app.data_dir.path().join("jwt-secret");
    let secret = std::fs::read_to_string(&path).unwrap();
    assert_eq!(secret.len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn by_default_passwords_need_eight_characters() {
    let app = TestApp::spawn().await;
    let register = |name: &'static str, password: &'static str| {
        app.call(
            Method::POST,
            "/auth/password/register",
            None,
            Some(json!({"username": name, "password": password})),
        )
    };
    let short = register("seven", "k3#vQ9z").await;
    assert_eq!(
        short.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        short.text
    );
    assert_eq!(short.body["detail"][0]["loc"], json!(["body", "password"]));
    let eight = register("eight", "k3#vQ9zW").await;
    assert_eq!(eight.status, StatusCode::CREATED, "{}", eight.text);
    app.stop().await;
}
