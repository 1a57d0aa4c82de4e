//! Bad input gets upstream's status and body shape, and writes nothing.
//!
//! Repetition note: each test spells out its requests and assertions step by step, so
//! tests here and in the other API test files look alike on purpose.

use crate::support::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn bad_site_bodies_are_rejected_and_write_nothing() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let site = app.site(&user, "existing").await;
    let before = app.get("/sites/", &user).await.body;
    let put = format!("/sites/{}", site["id"]);

    let cases: Vec<(Method, &str, &'static str, Value)> = vec![
        // malformed JSON
        (
            Method::POST,
            "/sites/",
            "{bad",
            json!({"loc": ["body", 1], "type": "value_error.jsondecode"}),
        ),
        // empty body
        (
            Method::POST,
            "/sites/",
            "",
            json!({"loc": ["body"], "type": "value_error.missing"}),
        ),
        // a list where an object belongs
        (
            Method::POST,
            "/sites/",
            "[1, 2]",
            json!({"loc": ["body"], "type": "type_error.dict"}),
        ),
        // missing field
        (
            Method::POST,
            "/sites/",
            r#"{"path": "/p"}"#,
            json!({"loc": ["body", "name"], "type": "value_error.missing"}),
        ),
        // wrong type
        (
            Method::POST,
            "/sites/",
            r#"{"name": "n", "path": "/p", "allowed_projects": "p1"}"#,
            json!({"loc": ["body", "allowed_projects"], "type": "type_error.list"}),
        ),
        (
            Method::POST,
            "/sites/",
            r#"{"name": {"a": 1}, "path": "/p"}"#,
            json!({"loc": ["body", "name"], "type": "type_error.str"}),
        ),
        // relative path
        (
            Method::POST,
            "/sites/",
            r#"{"name": "n", "path": "rel/p"}"#,
            json!({"loc": ["body", "path"], "msg": "path must be absolute"}),
        ),
        // name longer than upstream's column
        (
            Method::POST,
            "/sites/",
            r#"{"name": "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn", "path": "/p"}"#,
            json!({"loc": ["body", "name"], "type": "value_error.any_str.max_length", "ctx": {"limit_value": 100}}),
        ),
        // URL without a scheme
        (
            Method::POST,
            "/sites/",
            r#"{"name": "n", "path": "/p", "transfer_locations": {"l": "host:/x"}}"#,
            json!({"loc": ["body", "transfer_locations", "l"], "type": "value_error.url.scheme"}),
        ),
        // nested required fields
        (
            Method::PUT,
            put.as_str(),
            r#"{"allowed_queues": {"q": {"max_nodes": 1}}}"#,
            json!({"loc": ["body", "allowed_queues", "q", "max_walltime"], "type": "value_error.missing"}),
        ),
        (
            Method::PUT,
            put.as_str(),
            r#"{"name": null}"#,
            json!({"loc": ["body", "name"], "type": "type_error.none.not_allowed"}),
        ),
        (
            Method::PUT,
            put.as_str(),
            r#"{"globus_endpoint_id": "nope"}"#,
            json!({"loc": ["body", "globus_endpoint_id"], "type": "type_error.uuid"}),
        ),
    ];
    for (method, path, body, expected) in cases {
        let r = app.raw(method.clone(), path, &user.token, body).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {path} {body}: {}",
            r.text
        );
        let first = &r.body["detail"][0];
        for (key, value) in expected.as_object().unwrap() {
            assert_eq!(&first[key], value, "{method} {path} {body}: {}", r.text);
        }
        assert!(first["msg"].is_string());
    }
    // Nothing was written, not even last_refresh by the failed PUTs.
    assert_eq!(app.get("/sites/", &user).await.body, before);
    app.stop().await;
}

#[tokio::test]
async fn bad_ids_queries_routes_and_methods() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;

    let r = app.get("/sites/abc", &user).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.body,
        json!({"detail": [{"loc": ["path", "site_id"], "msg": "value is not a valid integer", "type": "type_error.integer"}]})
    );
    let r = app.get("/apps/1.5", &user).await;
    assert_eq!(r.body["detail"][0]["loc"], json!(["path", "app_id"]));

    let r = app.get("/sites/?limit=100001", &user).await;
    assert_eq!(
        r.body,
        json!({"detail": [{"loc": ["query", "limit"], "msg": "ensure this value is less than or equal to 100000",
            "type": "value_error.number.not_le", "ctx": {"limit_value": 100000}}]})
    );
    let r = app.get("/sites/?offset=-1", &user).await;
    assert_eq!(r.body["detail"][0]["type"], "value_error.number.not_ge");
    let r = app.get("/sites/?last_refresh_after=yesterday", &user).await;
    assert_eq!(r.body["detail"][0]["type"], "value_error.datetime");
    let r = app.get("/apps/?site_id=1&site_id=x", &user).await;
    assert_eq!(r.body["detail"][0]["loc"], json!(["query", "site_id", 1]));

    let r = app.get("/no-such-thing", &user).await;
    assert_eq!(
        (r.status, r.body.clone()),
        (StatusCode::NOT_FOUND, json!({"detail": "Not Found"}))
    );
    let r = app
        .call(
            Method::PATCH,
            "/sites/1",
            Some(&user.token),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (r.status, r.body.clone()),
        (
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"detail": "Method Not Allowed"})
        )
    );
    let r = app
        .call(Method::DELETE, "/sites/", Some(&user.token), None)
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(app.get("/sites/", &user).await.body["count"], 0);
    app.stop().await;
}

#[tokio::test]
async fn unknown_json_fields_are_ignored_and_numbers_coerce_to_strings() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let r = app
        .post(
            "/sites/",
            &user,
            json!({"name": "n", "path": "/p", "owner_id": 99, "hostname": "x",
            "optional_batch_job_params": {"a": 1, "b": 2.0, "c": true, "d": 1e20}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.body["optional_batch_job_params"],
        json!({"a": "1", "b": "2.0", "c": "True", "d": "1e+20"})
    );
    assert!(r.body.get("owner_id").is_none());
    app.stop().await;
}
