//! Sites on the wire: create, list, update, delete, with upstream's bodies and codes.
//!
//! Repetition note: each test spells out its requests and assertions step by step, so
//! tests here and in the other API test files look alike on purpose.

use crate::support::TestApp;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn create_returns_what_a_later_read_returns_with_naive_datetimes() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    // The body `balsam site init` sends: every field with its default.
    let created = app
        .post(
            "/sites/",
            &user,
            json!({"name": "theta", "path": "/projects//foo/",
            "globus_endpoint_id": null, "backfill_windows": {}, "queued_jobs": {},
            "optional_batch_job_params": {}, "allowed_projects": [], "allowed_queues": {},
            "transfer_locations": {}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let site = created.body;
    assert_eq!(site["path"], "/projects/foo");
    for field in ["last_refresh", "creation_date"] {
        let value = site[field].as_str().unwrap();
        assert!(
            !value.contains('+') && !value.ends_with('Z'),
            "{field} = {value}"
        );
    }
    let id = site["id"].as_i64().unwrap();
    assert_eq!(app.get(&format!("/sites/{id}"), &user).await.body, site);
    let listed = app.get(&format!("/sites/?id={id}"), &user).await;
    assert_eq!(listed.body, json!({"count": 1, "results": [site]}));
    app.stop().await;
}

#[tokio::test]
async fn collections_answer_with_and_without_the_trailing_slash() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    app.site(&user, "a").await;
    let slash = app.get("/sites/?name=a", &user).await;
    let bare = app.get("/sites?name=a", &user).await;
    assert_eq!(slash.status, StatusCode::OK);
    assert_eq!(bare.status, StatusCode::OK);
    assert_eq!(slash.body, bare.body);
    assert_eq!(bare.body["count"], 1);
    let id = bare.body["results"][0]["id"].as_i64().unwrap();
    let item = app.get(&format!("/sites/{id}/"), &user).await;
    assert_eq!(item.status, StatusCode::OK);
    assert_eq!(item.body, bare.body["results"][0]);
    app.stop().await;
}

#[tokio::test]
async fn list_filters_and_pagination() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let a = app.site(&user, "alpha").await;
    let b = app.site(&user, "beta").await;
    let c = app.site(&user, "gamma").await;
    let ids = |r: &crate::support::Reply| -> Vec<i64> {
        r.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_i64().unwrap())
            .collect()
    };
    let (a, b, c) = (
        a["id"].as_i64().unwrap(),
        b["id"].as_i64().unwrap(),
        c["id"].as_i64().unwrap(),
    );

    let r = app.get(&format!("/sites/?id={c}&id={a}"), &user).await;
    assert_eq!(ids(&r), vec![a, c]);
    let r = app.get("/sites/?path=ta", &user).await;
    assert_eq!(ids(&r), vec![b]);
    let r = app.get("/sites/?limit=0&offset=0", &user).await;
    assert_eq!(r.body, json!({"count": 3, "results": []}));
    let r = app.get("/sites/?limit=1&offset=2", &user).await;
    assert_eq!((r.body["count"].as_i64(), ids(&r)), (Some(3), vec![c]));
    // The CLI's "active sites" query: a space-separated datetime, as Python's str() sends it.
    let r = app
        .get(
            "/sites/?last_refresh_after=2000-01-01+00%3A00%3A00.000001",
            &user,
        )
        .await;
    assert_eq!(r.body["count"], 3);
    let r = app
        .get(
            "/sites/?last_refresh_after=2999-01-01T00:00:00%2B00:00",
            &user,
        )
        .await;
    assert_eq!(r.body["count"], 0);
    app.stop().await;
}

#[tokio::test]
async fn put_writes_present_fields_and_always_refreshes() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let site = app.site(&user, "s").await;
    let id = site["id"].as_i64().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    // Upstream's tests PUT whole objects, including read-only fields: they are ignored.
    let mut body = site.clone();
    body["num_nodes"] = json!(128);
    body["backfill_windows"] = json!({"default": [{"num_nodes": 31, "wall_time_min": 45.9}]});
    body["creation_date"] = json!("1999-01-01T00:00:00");
    let r = app.put(&format!("/sites/{id}"), &user, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["backfill_windows"],
        json!({"default": [{"num_nodes": 31, "wall_time_min": 45}]})
    );
    assert_eq!(r.body["creation_date"], site["creation_date"]);
    assert_ne!(r.body["last_refresh"], site["last_refresh"]);
    let empty = app.put(&format!("/sites/{id}"), &user, json!({})).await;
    assert!(empty.body["last_refresh"].as_str() > r.body["last_refresh"].as_str());
    assert_eq!(
        app.get(&format!("/sites/{id}"), &user).await.body,
        empty.body
    );
    app.stop().await;
}

#[tokio::test]
async fn duplicate_names_are_400_on_create_and_rename() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    app.site(&user, "dup").await;
    let other = app.site(&user, "other").await;
    let r = app
        .post("/sites/", &user, json!({"name": "dup", "path": "/x"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"detail": "A site with this name already exists"})
    );
    let r = app
        .put(
            &format!("/sites/{}", other["id"]),
            &user,
            json!({"name": "dup"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/sites/?name=other", &user).await.body["count"], 1);
    app.stop().await;
}

#[tokio::test]
async fn another_users_site_looks_missing() {
    let app = TestApp::spawn().await;
    let owner = app.new_user().await;
    let intruder = app.new_user().await;
    let site = app.site(&owner, "private").await;
    let path = format!("/sites/{}", site["id"]);
    for r in [
        app.get(&path, &intruder).await,
        app.put(&path, &intruder, json!({"name": "mine"})).await,
        app.delete(&path, &intruder).await,
    ] {
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.body, json!({"error": "Not found"}));
    }
    assert_eq!(
        app.get("/sites/", &intruder).await.body,
        json!({"count": 0, "results": []})
    );
    assert_eq!(app.get(&path, &owner).await.body, site);
    app.stop().await;
}

#[tokio::test]
async fn delete_is_204_with_an_empty_body_and_cascades_to_apps() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let site = app.site(&user, "doomed").await;
    let created = app
        .post(
            "/apps/",
            &user,
            json!({"site_id": site["id"], "name": "A",
            "serialized_class": "x", "source_code": "y"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let r = app.delete(&format!("/sites/{}", site["id"]), &user).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.text, "");
    assert_eq!(app.get("/apps/", &user).await.body["count"], 0);
    let again = app.delete(&format!("/sites/{}", site["id"]), &user).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    app.stop().await;
}
