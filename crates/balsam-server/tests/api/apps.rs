//! Apps on the wire: create, list, update, delete, with upstream's bodies and codes.
//!
//! Repetition note: each test spells out its requests and assertions step by step, so
//! tests here and in the other API test files look alike on purpose.

use crate::support::TestApp;
use reqwest::StatusCode;
use serde_json::json;

fn hello(site_id: &serde_json::Value) -> serde_json::Value {
    json!({"site_id": site_id, "name": "Hello", "serialized_class": "txt", "source_code": "src",
        "parameters": {"name": {"required": true}, "N": {"required": false, "default": 1}},
        "transfers": {"inp": {"required": false, "direction": "in", "local_path": "hello.yml"}}})
}

#[tokio::test]
async fn create_fills_defaults_like_upstream() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let site = app.site(&user, "s").await;
    let r = app.post("/apps/", &user, hello(&site["id"])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].clone();
    assert_eq!(
        r.body,
        json!({"site_id": site["id"], "name": "Hello", "serialized_class": "txt",
            "source_code": "src", "description": "",
            "parameters": {"name": {"required": true, "default": null, "help": ""},
                           "N": {"required": false, "default": "1", "help": ""}},
            "transfers": {"inp": {"required": false, "direction": "in", "local_path": "hello.yml",
                                  "description": "", "recursive": false}},
            "id": id})
    );
    assert_eq!(app.get(&format!("/apps/{id}"), &user).await.body, r.body);
    app.stop().await;
}

#[tokio::test]
async fn sync_flow_gets_then_puts_the_full_definition() {
    // ApplicationDefinition.sync(): GET /apps/?site_id=S&name=N, then PUT or POST.
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let site = app.site(&user, "s").await;
    let sid = site["id"].as_i64().unwrap();
    let q = format!("/apps/?site_id={sid}&name=Hello");
    assert_eq!(app.get(&q, &user).await.body["count"], 0);
    let created = app.post("/apps/", &user, hello(&site["id"])).await.body;
    let found = app.get(&q, &user).await.body;
    assert_eq!(found["results"][0], created);
    let mut changed = hello(&site["id"]);
    changed["source_code"] = json!("src v2");
    let r = app
        .put(&format!("/apps/{}", created["id"]), &user, changed)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["source_code"], "src v2");
    assert_eq!(app.get(&q, &user).await.body["results"][0], r.body);
    app.stop().await;
}

#[tokio::test]
async fn duplicates_foreign_sites_and_filters() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let other = app.new_user().await;
    let site = app.site(&user, "theta").await;
    let foreign = app.site(&other, "polaris").await;
    app.post("/apps/", &user, hello(&site["id"])).await;

    let dup = app.post("/apps/", &user, hello(&site["id"])).await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        dup.body,
        json!({"detail": "An app with this site_id and name already exists"})
    );

    let stolen = app.post("/apps/", &user, hello(&foreign["id"])).await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND);
    assert_eq!(stolen.body, json!({"error": "Not found"}));
    assert_eq!(app.get("/apps/", &other).await.body["count"], 0);

    assert_eq!(
        app.get("/apps/?site_name=theta", &user).await.body["count"],
        1
    );
    assert_eq!(
        app.get("/apps/?site_path=theta", &user).await.body["count"],
        1
    );
    assert_eq!(
        app.get("/apps/?site_name=polaris", &user).await.body["count"],
        0
    );
    assert_eq!(app.get("/apps/?name=", &user).await.body["count"], 0);
    app.stop().await;
}

#[tokio::test]
async fn validation_errors_name_the_field() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let site = app.site(&user, "s").await;
    let mut body = hello(&site["id"]);
    body["name"] = json!("not a class");
    body["serialized_class"] = json!("x".repeat(262_145));
    body["parameters"] = json!({"p": {"required": false}});
    let r = app.post("/apps/", &user, body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.body,
        json!({"detail": [
            {"loc": ["body", "name"], "msg": "not a class is not a valid class name", "type": "value_error"},
            {"loc": ["body", "serialized_class"], "msg": "Serialized App cannot be larger than 262144", "type": "assertion_error"},
            {"loc": ["body", "parameters", "p", "default"], "msg": "optional param needs a default", "type": "value_error"}
        ]})
    );
    assert_eq!(app.get("/apps/", &user).await.body["count"], 0);
    app.stop().await;
}

#[tokio::test]
async fn apps_move_only_to_owned_sites() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let other = app.new_user().await;
    let s1 = app.site(&user, "one").await;
    let s2 = app.site(&user, "two").await;
    let foreign = app.site(&other, "theirs").await;
    let a = app.post("/apps/", &user, hello(&s1["id"])).await.body;
    let path = format!("/apps/{}", a["id"]);
    let r = app
        .put(&path, &user, json!({"site_id": foreign["id"]}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.put(&path, &user, json!({"site_id": s2["id"]})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["site_id"], s2["id"]);
    let gone = app.delete(&path, &user).await;
    assert_eq!(
        (gone.status, gone.text.as_str()),
        (StatusCode::NO_CONTENT, "")
    );
    assert_eq!(app.get(&path, &user).await.status, StatusCode::NOT_FOUND);
    app.stop().await;
}
