//! `GET /jobs/export`: every job the filters match, across several pages, as the list
//! endpoint returns them (JSON) or one CSV row each.
//!
//! Repetition note: each test spells out its requests and assertions step by step, so
//! tests here and in the other API test files look alike on purpose.

use crate::support::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Every page of `GET /jobs/?{filters}&ordering=id`.
async fn listed(app: &TestApp, user: &crate::support::TestUser, filters: &str) -> Vec<Value> {
    let mut all = Vec::new();
    loop {
        let page = app
            .get(
                &format!(
                    "/jobs/?{filters}&ordering=id&limit=1000&offset={}",
                    all.len()
                ),
                user,
            )
            .await;
        let results = page.body["results"].as_array().unwrap().clone();
        if results.is_empty() {
            return all;
        }
        all.extend(results);
    }
}

#[tokio::test]
async fn an_export_streams_every_matching_job_in_id_order() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let site = app.site(&user, "s").await;
    let a = app
        .post(
            "/apps/",
            &user,
            json!({"site_id": site["id"], "name": "A",
            "serialized_class": "x", "source_code": "y"}),
        )
        .await
        .body["id"]
        .clone();
    let jobs: Vec<Value> = (0..2_500)
        .map(|i| {
            json!({"workdir": format!("w/{i}"), "app_id": a,
                "tags": {"batch": if i % 2 == 0 { "even" } else { "odd" }}})
        })
        .collect();
    let r = app.post("/jobs/", &user, Value::Array(jobs)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // One job whose workdir needs quoting in CSV, and starts like a spreadsheet formula.
    let odd = app
        .post(
            "/jobs/",
            &user,
            json!([{"workdir": "=say \"hi\", then\nleave", "app_id": a,
            "tags": {"batch": "odd"}}]),
        )
        .await
        .body[0]
        .clone();
    // Another user's jobs never appear.
    let other = app.new_user().await;
    let other_site = app.site(&other, "s").await;
    let b = app
        .post(
            "/apps/",
            &other,
            json!({"site_id": other_site["id"], "name": "A",
            "serialized_class": "x", "source_code": "y"}),
        )
        .await
        .body["id"]
        .clone();
    app.post(
        "/jobs/",
        &other,
        json!([{"workdir": "theirs", "app_id": b, "tags": {"batch": "odd"}}]),
    )
    .await;

    let r = app
        .get(
            "/jobs/export?format=json&tags=batch:odd&ordering=-id&limit=5",
            &user,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(
        r.headers["content-disposition"],
        "attachment; filename=\"jobs.json\""
    );
    let expected = listed(&app, &user, "tags=batch:odd").await;
    assert_eq!(expected.len(), 1_251);
    assert_eq!(r.body, Value::Array(expected.clone()));

    let r = app.get("/jobs/export?tags=batch:odd", &user).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "text/csv; charset=utf-8");
    let text = r.text.clone();
    assert!(text.starts_with("id,app_id,workdir,state,tags,"));
    // One header line and one line per job: only the quoted workdir holds a line break.
    assert_eq!(text.matches("\r\n").count(), 1 + 1_251);
    let ids: Vec<i64> = text
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    let listed_ids: Vec<i64> = expected.iter().map(|j| j["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, listed_ids);
    let row = format!(
        "{},{},\"'=say \"\"hi\"\", then\nleave\",STAGED_IN,\"{{\"\"batch\"\":\"\"odd\"\"}}\",[],",
        odd["id"], a
    );
    assert!(text.contains(&row), "{row}");

    // Nothing matching: a header (CSV) or an empty array (JSON).
    let r = app.get("/jobs/export?tags=batch:none", &user).await;
    assert_eq!(r.text.matches("\r\n").count(), 1);
    let r = app
        .get("/jobs/export?format=json&state=FAILED", &user)
        .await;
    assert_eq!(r.body, json!([]));
}

#[tokio::test]
async fn an_export_checks_its_format_and_needs_a_token() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let r = app.get("/jobs/export?format=xml", &user).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["loc"], json!(["query", "format"]));
    let r = app.get("/jobs/export?state=NOPE", &user).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.call(Method::GET, "/jobs/export", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
