//! The workflow endpoints on the wire: status codes, bodies and datetime forms.
//!
//! Repetition note: each test spells out its requests and assertions step by step, so
//! tests here and in the other API test files look alike on purpose.

use crate::support::{TestApp, TestUser};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A Site with a transfer location and an App with an in and an out slot; returns ids.
async fn world(app: &TestApp, user: &TestUser) -> (i64, i64) {
    let transfers = json!({"inp": {"required": false, "direction": "in", "local_path": "in.dat"},
                           "out": {"required": false, "direction": "out", "local_path": "out.dat"}});
    let (site, a) = app.site_and_app(user, transfers).await;
    (site["id"].as_i64().unwrap(), a["id"].as_i64().unwrap())
}

#[tokio::test]
async fn job_create_list_update_delete_on_the_wire() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let (site, a) = world(&app, &user).await;
    let r = app
        .post(
            "/jobs/",
            &user,
            json!([{"workdir": "j/1", "app_id": a, "tags": {"foo": 1}, "parameters": {}},
                                      {"workdir": "j/2", "app_id": a}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let created = r.body.as_array().unwrap().clone();
    assert_eq!(created[0]["tags"], json!({"foo": "1"}));
    assert_eq!(created[0]["state"], "STAGED_IN");
    let last_update = created[0]["last_update"].as_str().unwrap();
    assert!(last_update.ends_with("+00:00"), "{last_update}");
    let id = created[0]["id"].as_i64().unwrap();
    assert_eq!(
        app.get(&format!("/jobs/{id}"), &user).await.body,
        created[0]
    );
    let listed = app.get("/jobs/?tags=foo:1", &user).await;
    assert_eq!(listed.body["count"], 1);

    let r = app
        .call(
            Method::PATCH,
            "/jobs/",
            Some(&user.token),
            Some(json!([{"id": id, "state": "PREPROCESSED", "state_message": "ignored"}])),
        )
        .await;
    assert_eq!((r.status, r.body.clone()), (StatusCode::OK, json!(1)));
    let r = app
        .put(
            &format!("/jobs/{id}"),
            &user,
            json!({"state": "RESTART_READY"}),
        )
        .await;
    assert_eq!(r.body, json!(1));
    let r = app
        .put(
            &format!("/jobs/?site_id={site}"),
            &user,
            json!({"num_nodes": 3}),
        )
        .await;
    assert_eq!(r.body, json!(2));
    let counts = app.get("/jobs/state-counts", &user).await;
    assert_eq!(
        counts.body,
        json!([{"site_id": site, "counts": {"RESTART_READY": 1, "STAGED_IN": 1}, "running_nodes": 0.0}])
    );

    let r = app
        .call(
            Method::DELETE,
            "/jobs/?workdir__contains=j/2",
            Some(&user.token),
            None,
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (StatusCode::NO_CONTENT, ""));
    let r = app.delete(&format!("/jobs/{id}"), &user).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/jobs/", &user).await.body,
        json!({"count": 0, "results": []})
    );
    assert_eq!(app.get("/jobs/state-counts", &user).await.body, json!([]));
    let events = app.get("/events/", &user).await;
    assert_eq!(events.body["count"], 0, "LogEvents cascade with their jobs");
    app.stop().await;
}

#[tokio::test]
async fn job_errors_have_upstreams_status_and_body_and_write_nothing() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let other = app.new_user().await;
    let (_, a) = world(&app, &user).await;
    let (_, foreign) = world(&app, &other).await;
    let one = app
        .post("/jobs/", &user, json!([{"workdir": "x", "app_id": a}]))
        .await
        .body[0]["id"]
        .clone();

    let cases: Vec<(Method, &str, Value, StatusCode, Value)> = vec![
        (
            Method::POST,
            "/jobs/",
            json!({"workdir": "a", "app_id": a}),
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"detail": [{"loc": ["body"], "msg": "value is not a valid list", "type": "type_error.list"}]}),
        ),
        (
            Method::POST,
            "/jobs/",
            json!([{"workdir": "a", "app_id": a}, {"workdir": "b", "app_id": foreign}]),
            StatusCode::NOT_FOUND,
            json!({"detail": "Could not find one or more Apps. Double check app_id fields."}),
        ),
        (
            Method::POST,
            "/jobs/",
            json!([{"workdir": "a", "app_id": a, "parent_ids": [123456]}]),
            StatusCode::NOT_FOUND,
            json!({"detail": "Could not find one or more Jobs set as parents. Double check parent_ids fields."}),
        ),
        (
            Method::POST,
            "/jobs/",
            json!([{"workdir": "a", "app_id": a}, {"workdir": "./a/", "app_id": a}]),
            StatusCode::BAD_REQUEST,
            json!({"detail": "Workdirs must be unique for each call to bulk-create Jobs."}),
        ),
        (
            Method::POST,
            "/jobs/",
            json!([{"workdir": "a", "app_id": a, "transfers": {"x": {"location_alias": "laptop", "path": "/p"}}}]),
            StatusCode::BAD_REQUEST,
            json!({"detail": "App A has no Transfer slot named x"}),
        ),
        (
            Method::POST,
            "/jobs/",
            json!([{"workdir": "/abs", "app_id": a}]),
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"detail": [{"loc": ["body", 0, "workdir"], "msg": "Cannot use absolute path", "type": "value_error"}]}),
        ),
        (
            Method::PATCH,
            "/jobs/",
            json!([{"id": one, "state": "FAILED"}, {"id": one, "state": "RUNNING"}]),
            StatusCode::BAD_REQUEST,
            json!({"detail": "Duplicate Job ID keys provided"}),
        ),
        (
            Method::PATCH,
            "/jobs/",
            json!([{"id": one, "state": "FAILED"}, {"id": 999999, "state": "FAILED"}]),
            StatusCode::BAD_REQUEST,
            json!({"detail": "Could not find some Job IDs"}),
        ),
        (
            Method::PUT,
            "/jobs/999999",
            json!({"state": "FAILED"}),
            StatusCode::BAD_REQUEST,
            json!({"detail": "Could not find some Job IDs"}),
        ),
    ];
    for (method, path, body, status, expected) in cases {
        let r = app
            .call(method.clone(), path, Some(&user.token), Some(body))
            .await;
        assert_eq!((r.status, &r.body), (status, &expected), "{method} {path}");
    }
    let too_many: Vec<Value> = (0..5001)
        .map(|i| json!({"workdir": format!("w{i}"), "app_id": a}))
        .collect();
    let r = app.post("/jobs/", &user, Value::Array(too_many)).await;
    assert_eq!(
        r.body,
        json!({"detail": "Cannot bulk-create more than 5000 in a single API call."})
    );
    let big = "x".repeat(512_001);
    let r = app
        .post(
            "/jobs/",
            &user,
            json!([{"workdir": "big", "app_id": a, "serialized_parameters": big}]),
        )
        .await;
    assert_eq!(
        r.body["detail"][0]["msg"],
        "serialized_parameters cannot be larger than 512000"
    );

    let r = app.get("/jobs/?state=BOGUS&ordering=tags", &user).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["loc"], json!(["query", "state", 0]));
    assert_eq!(r.body["detail"][0]["type"], "type_error.enum");
    assert_eq!(r.body["detail"][1]["loc"], json!(["query", "ordering"]));

    let jobs = app.get("/jobs/", &user).await.body;
    assert_eq!(jobs["count"], 1);
    assert_eq!(jobs["results"][0]["state"], "STAGED_IN");
    app.stop().await;
}

#[tokio::test]
async fn sessions_batch_jobs_transfers_and_events_on_the_wire() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let (site, a) = world(&app, &user).await;
    let bj = app
        .post(
            "/batch-jobs/",
            &user,
            json!({"site_id": site, "project": "p", "queue": "q", "num_nodes": 1,
            "wall_time_min": 10, "job_mode": "serial", "partitions": []}),
        )
        .await;
    assert_eq!(bj.status, StatusCode::CREATED, "{}", bj.text);
    assert_eq!(bj.body["state"], "pending_submission");
    assert_eq!(bj.body["status_info"], json!({}));
    let bad = app
        .post(
            "/batch-jobs/",
            &user,
            json!({"site_id": 987654, "project": "p", "queue": "q",
        "num_nodes": 1, "wall_time_min": 10, "job_mode": "serial"}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.body),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "No site with ID 987654"})
        )
    );
    let r = app
        .call(
            Method::PATCH,
            "/batch-jobs/",
            Some(&user.token),
            Some(json!([{"id": 987654, "state": "queued"}])),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"detail": "Could not find some Batch Job IDs"})
    );
    let r = app.call(Method::PATCH, "/batch-jobs/", Some(&user.token),
        Some(json!([{"id": bj.body["id"], "state": "running", "start_time": "2024-01-01T01:02:03+01:00"}]))).await;
    assert_eq!(r.body[0]["start_time"], "2024-01-01T00:02:03");

    let created = app
        .post(
            "/jobs/",
            &user,
            json!([{"workdir": "t", "app_id": a,
        "transfers": {"inp": {"location_alias": "laptop", "path": "/in"}}}]),
        )
        .await
        .body;
    let job = created[0]["id"].as_i64().unwrap();
    let items = app
        .get(&format!("/transfers/?job_id={job}"), &user)
        .await
        .body;
    let item = items["results"][0]["id"].clone();
    let r = app
        .call(
            Method::PATCH,
            "/transfers/",
            Some(&user.token),
            Some(json!([{"id": 987654, "state": "done"}])),
        )
        .await;
    assert_eq!(r.body, json!({"detail": "Some TransferItems not found"}));
    let r = app
        .put(
            &format!("/transfers/{item}"),
            &user,
            json!({"state": "done", "task_id": "t1"}),
        )
        .await;
    assert_eq!(
        (r.body["state"].as_str(), r.body["task_id"].as_str()),
        (Some("done"), Some("t1"))
    );
    assert_eq!(
        app.get(&format!("/jobs/{job}"), &user).await.body["state"],
        "STAGED_IN"
    );
    app.put(
        &format!("/jobs/{job}"),
        &user,
        json!({"state": "PREPROCESSED"}),
    )
    .await;

    let s = app
        .post(
            "/sessions/",
            &user,
            json!({"site_id": site, "batch_job_id": bj.body["id"]}),
        )
        .await;
    assert_eq!(s.status, StatusCode::CREATED, "{}", s.text);
    let heartbeat = s.body["heartbeat"].as_str().unwrap();
    assert!(!heartbeat.contains('+'), "{heartbeat}");
    let sid = s.body["id"].as_i64().unwrap();
    let acquire = json!({"max_num_jobs": 10, "max_wall_time_min": null, "max_nodes_per_job": null,
        "max_aggregate_nodes": null, "serial_only": false, "sort_by": null, "filter_tags": {},
        "states": ["PREPROCESSED", "RESTART_READY"], "app_ids": []});
    let got = app
        .post(&format!("/sessions/{sid}"), &user, acquire.clone())
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body.as_array().unwrap().len(), 1);
    assert_eq!(got.body[0]["batch_job_id"], bj.body["id"]);
    let bad = app
        .post(
            &format!("/sessions/{sid}"),
            &user,
            json!({"max_num_jobs": 3000, "filter_tags": {}}),
        )
        .await;
    assert_eq!(
        bad.body["detail"][0]["msg"],
        "max_num_jobs must be between 1 and 2048"
    );
    let tick = app.put(&format!("/sessions/{sid}"), &user, json!({})).await;
    assert_eq!((tick.status, tick.text.as_str()), (StatusCode::OK, "null"));
    let listed = app.get("/sessions/?limit=0", &user).await;
    assert_eq!(listed.body["count"], 1, "no pagination on sessions");
    app.put(&format!("/jobs/{job}"), &user, json!({"state": "RUNNING"}))
        .await;
    assert_eq!(
        app.delete(&format!("/sessions/{sid}"), &user).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.post(&format!("/sessions/{sid}"), &user, acquire)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let events = app.get(&format!("/events/?job_id={job}"), &user).await.body;
    let to_states: Vec<&str> = events["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["to_state"].as_str().unwrap())
        .collect();
    assert_eq!(
        to_states,
        [
            "RUN_TIMEOUT",
            "RUNNING",
            "PREPROCESSED",
            "STAGED_IN",
            "READY"
        ],
        "newest first"
    );
    assert_eq!(
        events["results"][0]["data"],
        json!({"message": "Session expired: job was stuck in RUNNING state"})
    );
    assert!(!events["results"][0]["timestamp"]
        .as_str()
        .unwrap()
        .contains('+'));
    let oldest = app
        .get(
            &format!("/events/?job_id={job}&ordering=timestamp&limit=1"),
            &user,
        )
        .await
        .body;
    assert_eq!(oldest["results"][0]["to_state"], "READY");
    app.stop().await;
}

#[tokio::test]
async fn a_background_task_expires_sessions_whose_launcher_died() {
    let app = TestApp::spawn_with(|c| {
        c.sessions.expire_after_secs = 1;
        c.sessions.sweep_interval_secs = 1;
    })
    .await;
    let user = app.new_user().await;
    let (site, a) = world(&app, &user).await;
    let job = app
        .post("/jobs/", &user, json!([{"workdir": "w", "app_id": a}]))
        .await
        .body[0]["id"]
        .clone();
    app.put(
        &format!("/jobs/{job}"),
        &user,
        json!({"state": "PREPROCESSED"}),
    )
    .await;
    let sid = app
        .post("/sessions/", &user, json!({"site_id": site}))
        .await
        .body["id"]
        .clone();
    let got = app
        .post(
            &format!("/sessions/{sid}"),
            &user,
            json!({"max_num_jobs": 1, "filter_tags": {}}),
        )
        .await;
    assert_eq!(got.body[0]["session_id"], sid);
    app.put(&format!("/jobs/{job}"), &user, json!({"state": "RUNNING"}))
        .await;
    // No further call from this user: only the background sweep can expire the session.
    let mut state = String::new();
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let j = app.get(&format!("/jobs/{job}"), &user).await.body;
        state = j["state"].as_str().unwrap().to_owned();
        if state == "RUN_TIMEOUT" {
            assert_eq!(j["session_id"], Value::Null);
            break;
        }
    }
    assert_eq!(state, "RUN_TIMEOUT");
    assert_eq!(app.get("/sessions/", &user).await.body["count"], 0);
    app.stop().await;
}
