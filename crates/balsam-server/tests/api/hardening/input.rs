//! Every input gets a 4xx in upstream's error shape: non-finite floats, NUL characters,
//! out-of-range timestamps, oversized lists and fields, paths that climb out of the Site.
//!
//! Repetition note: each test spells out its requests and assertions step by step, so
//! tests here and in the other API test files look alike on purpose.

use super::{first_error, world};
use crate::support::TestApp;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn non_finite_floats_are_a_422_on_create_and_update() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let (_, a, job) = world(&app, &user).await;
    for bad in ["NaN", "nan", "inf", "-Infinity"] {
        let r = app
            .post(
                "/jobs/",
                &user,
                json!([{"workdir": "x", "app_id": a, "gpus_per_rank": bad}]),
            )
            .await;
        assert_eq!(
            first_error(&r),
            (
                json!(["body", 0, "gpus_per_rank"]),
                json!("value_error.number.not_finite")
            )
        );
        let r = app
            .put(
                &format!("/jobs/{job}"),
                &user,
                json!({"gpus_per_rank": bad}),
            )
            .await;
        assert_eq!(first_error(&r).0, json!(["body", "gpus_per_rank"]));
        let r = app
            .call(
                Method::PATCH,
                "/jobs/",
                Some(&user.token),
                Some(json!([{"id": job, "gpus_per_rank": bad}])),
            )
            .await;
        assert_eq!(first_error(&r).0, json!(["body", 0, "gpus_per_rank"]));
    }
    app.stop().await;
}

#[tokio::test]
async fn nul_characters_are_a_422_in_bodies_forms_and_queries() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let (_, a, job) = world(&app, &user).await;
    let r = app
        .post("/sites/", &user, json!({"name": "a\u{0}b", "path": "/p"}))
        .await;
    assert_eq!(
        first_error(&r),
        (json!(["body", "name"]), json!("value_error.str.nul"))
    );
    let r = app
        .post("/jobs/", &user, json!([{"workdir": "w\u{0}", "app_id": a}]))
        .await;
    assert_eq!(first_error(&r).0, json!(["body", 0, "workdir"]));
    let r = app
        .put(
            &format!("/jobs/{job}"),
            &user,
            json!({"state_data": {"k": ["\u{0}"]}}),
        )
        .await;
    assert_eq!(first_error(&r).0, json!(["body", "state_data", "k", 0]));
    let r = app
        .call(
            Method::POST,
            "/auth/password/register",
            None,
            Some(json!({"username": "nul\u{0}user", "password": "pw-secret"})),
        )
        .await;
    assert_eq!(first_error(&r).0, json!(["body", "username"]));
    let login = app
        .client
        .post(format!("{}/auth/password/login", app.base))
        .form(&[("username", "nul\u{0}user"), ("password", "pw-secret")])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.get("/sites/?name=a%00b", &user).await;
    assert_eq!(
        first_error(&r),
        (json!(["query", "name"]), json!("value_error.str.nul"))
    );
    // Nothing was written.
    assert_eq!(app.get("/sites/", &user).await.body["count"], 1);
    app.stop().await;
}

#[tokio::test]
async fn timestamps_outside_years_1_to_9999_are_a_422() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let (site, _, job) = world(&app, &user).await;
    // Year 0, year 10 000 (after the offset), Unix milliseconds in year 33 658 and −5 636.
    for bad in [
        json!("0000-01-01T00:00:00"),
        json!("9999-12-31T23:30:00-01:00"),
        json!(1e15),
        json!("-240000000000000"),
    ] {
        let r = app
            .put(
                &format!("/jobs/{job}"),
                &user,
                json!({"state": "STAGED_IN", "state_timestamp": bad}),
            )
            .await;
        assert_eq!(
            first_error(&r),
            (
                json!(["body", "state_timestamp"]),
                json!("value_error.datetime")
            ),
            "{bad}"
        );
    }
    let bj = app
        .post(
            "/batch-jobs/",
            &user,
            json!({"site_id": site, "project": "p", "queue": "q",
            "num_nodes": 1, "wall_time_min": 10, "job_mode": "serial"}),
        )
        .await;
    let bj = bj.body["id"].as_i64().unwrap();
    let r = app
        .put(
            &format!("/batch-jobs/{bj}"),
            &user,
            json!({"start_time": "0000-06-01T00:00:00"}),
        )
        .await;
    assert_eq!(first_error(&r).0, json!(["body", "start_time"]));
    let r = app
        .get("/jobs/?last_update_after=0000-01-01T00:00:00", &user)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    app.stop().await;
}

#[tokio::test]
async fn acquire_refuses_id_and_tag_lists_past_their_documented_limits() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let (site, a, _) = world(&app, &user).await;
    let session = app
        .post("/sessions/", &user, json!({"site_id": site}))
        .await;
    assert_eq!(session.status, StatusCode::CREATED, "{}", session.text);
    let path = format!("/sessions/{}", session.body["id"]);
    let many_ids: Vec<i64> = (0..=balsam_types::limits::MAX_ACQUIRE_APP_IDS as i64).collect();
    let r = app
        .post(
            &path,
            &user,
            json!({"max_num_jobs": 1, "filter_tags": {}, "app_ids": many_ids}),
        )
        .await;
    assert_eq!(
        first_error(&r),
        (
            json!(["body", "app_ids"]),
            json!("value_error.list.max_items")
        )
    );
    let many_tags: serde_json::Map<String, Value> = (0..=balsam_types::limits::MAX_FILTER_TAGS)
        .map(|i| (format!("k{i}"), json!("v")))
        .collect();
    let r = app
        .post(
            &path,
            &user,
            json!({"max_num_jobs": 1, "filter_tags": many_tags, "app_ids": [a]}),
        )
        .await;
    assert_eq!(
        first_error(&r),
        (
            json!(["body", "filter_tags"]),
            json!("value_error.list.max_items")
        )
    );
    let ok = app
        .post(
            &path,
            &user,
            json!({"max_num_jobs": 1, "filter_tags": {}, "app_ids": [a]}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    // The same bound on list queries: one value per bound parameter.
    let query: Vec<String> = (0..=balsam_types::limits::MAX_TAG_FILTERS)
        .map(|i| format!("tags=k{i}:v"))
        .collect();
    let r = app.get(&format!("/jobs/?{}", query.join("&")), &user).await;
    assert_eq!(
        first_error(&r),
        (
            json!(["query", "tags"]),
            json!("value_error.list.max_items")
        )
    );
    app.stop().await;
}

#[tokio::test]
async fn free_form_fields_have_size_limits() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let (_, a, job) = world(&app, &user).await;
    let big = "x".repeat(balsam_types::limits::MAX_DATA_BYTES);
    let r = app
        .post(
            "/jobs/",
            &user,
            json!([{"workdir": "x", "app_id": a, "data": {"k": big}}]),
        )
        .await;
    assert_eq!(
        first_error(&r),
        (
            json!(["body", 0, "data"]),
            json!("value_error.any_str.max_length")
        )
    );
    let r = app
        .put(
            &format!("/jobs/{job}"),
            &user,
            json!({"tags": {"k": "x".repeat(20_000)}}),
        )
        .await;
    assert_eq!(first_error(&r).0, json!(["body", "tags"]));
    let r = app
        .put(
            &format!("/apps/{a}"),
            &user,
            json!({"description": "x".repeat(300_000)}),
        )
        .await;
    assert_eq!(first_error(&r).0, json!(["body", "description"]));
    app.stop().await;
}

#[tokio::test]
async fn workdirs_and_transfer_slots_may_not_climb_out_of_the_site() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let (site, a, job) = world(&app, &user).await;
    let r = app
        .post(
            "/jobs/",
            &user,
            json!([{"workdir": "a/../../../etc/cron.d", "app_id": a}]),
        )
        .await;
    assert_eq!(
        first_error(&r),
        (
            json!(["body", 0, "workdir"]),
            json!("value_error.path.escapes")
        )
    );
    let r = app
        .put(&format!("/jobs/{job}"), &user, json!({"workdir": ".."}))
        .await;
    assert_eq!(first_error(&r).0, json!(["body", "workdir"]));
    let r = app
        .post("/apps/", &user, json!({"site_id": site, "name": "B", "serialized_class": "x",
            "source_code": "y",
            "transfers": {"inp": {"required": false, "direction": "in", "local_path": "x/../../in"}}}))
        .await;
    assert_eq!(
        first_error(&r).0,
        json!(["body", "transfers", "inp", "local_path"])
    );
    // A `..` that stays inside is kept, as pathlib keeps it.
    let ok = app
        .post("/jobs/", &user, json!([{"workdir": "a/../b", "app_id": a}]))
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
    app.stop().await;
}
