//! Every mutation emits its event with full instances, and list responses carry the
//! sequence number they reflect.
//!
//! Repetition note: each test spells out its requests and assertions step by step, so
//! tests here and in the other API test files look alike on purpose.

use super::{events, hello, kinds, quiet, world};
use crate::support::TestApp;

use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn every_mutation_emits_its_event_with_full_instances() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let (mut socket, welcome) = hello(&app, &user, None).await;
    assert_eq!(
        (welcome["seq"].as_i64(), welcome["resumed"].as_bool()),
        (Some(0), Some(false))
    );

    let (site, a) = world(&app, &user).await;
    let got = events(&mut socket, 2).await;
    assert_eq!(kinds(&got), ["create site", "create app"]);
    assert_eq!(got[1]["data"], a);
    assert_eq!(
        (got[0]["seq"].as_i64(), got[1]["seq"].as_i64()),
        (Some(1), Some(2))
    );

    let jobs = app
        .post("/jobs/", &user, json!([{"workdir": "1", "app_id": a["id"], "transfers": {"inp": {"location_alias": "laptop", "path": "/in"}}},
                                      {"workdir": "2", "app_id": a["id"]}]))
        .await
        .body;
    let got = events(&mut socket, 4).await;
    assert_eq!(
        kinds(&got),
        [
            "bulk-create job",
            "bulk-create transfer_item",
            "bulk-create log_event",
            "update state_counts"
        ]
    );
    assert_eq!(got[0]["data"], jobs);
    assert_eq!(
        got[3]["data"],
        app.get("/jobs/state-counts", &user).await.body,
        "the pushed counts are the counts after the commit"
    );
    let j2 = jobs[1]["id"].clone();

    let steps: Vec<(Method, String, Value, Vec<&str>)> = vec![
        (
            Method::PATCH,
            "/jobs/".into(),
            json!([{"id": j2, "state": "PREPROCESSED"}]),
            vec![
                "bulk-update job",
                "bulk-create log_event",
                "update state_counts",
            ],
        ),
        (
            Method::PUT,
            format!("/jobs/{j2}"),
            json!({"tags": {"k": "v"}}),
            vec!["bulk-update job"],
        ),
        (
            Method::PUT,
            "/jobs/?workdir__contains=2".into(),
            json!({"num_nodes": 2}),
            // A node count moves the Site's `running_nodes`.
            vec!["bulk-update job", "update state_counts"],
        ),
        (
            Method::POST,
            "/batch-jobs/".into(),
            json!({"site_id": site["id"], "project": "p", "queue": "q", "num_nodes": 1, "wall_time_min": 5, "job_mode": "serial"}),
            vec!["create batch_job"],
        ),
        (
            Method::POST,
            "/sessions/".into(),
            json!({"site_id": site["id"]}),
            vec!["create session"],
        ),
    ];
    for (method, path, body, expected) in steps {
        let r = app
            .call(method.clone(), &path, Some(&user.token), Some(body))
            .await;
        assert!(r.status.is_success(), "{method} {path}: {}", r.text);
        let got = events(&mut socket, expected.len()).await;
        assert_eq!(kinds(&got), expected, "{method} {path}");
        if method == Method::POST {
            assert_eq!(
                got[0]["data"], r.body,
                "the event carries what the response carries"
            );
        }
    }
    let sessions = app.get("/sessions/", &user).await.body;
    let sid = sessions["results"][0]["id"].clone();
    let acquired = app
        .post(
            &format!("/sessions/{sid}"),
            &user,
            json!({"max_num_jobs": 5, "filter_tags": {}}),
        )
        .await
        .body;
    let got = events(&mut socket, 2).await;
    assert_eq!(kinds(&got), ["bulk-update job", "update session"]);
    assert_eq!(got[0]["data"], acquired);
    app.put(&format!("/sessions/{sid}"), &user, json!({})).await;
    assert_eq!(kinds(&events(&mut socket, 1).await), ["update session"]);
    app.put(&format!("/jobs/{j2}"), &user, json!({"state": "RUNNING"}))
        .await;
    events(&mut socket, 3).await;
    app.delete(&format!("/sessions/{sid}"), &user).await;
    let got = events(&mut socket, 4).await;
    assert_eq!(
        kinds(&got),
        [
            "bulk-update job",
            "bulk-create log_event",
            "delete session",
            "update state_counts"
        ]
    );
    assert_eq!(got[0]["data"][0]["state"], "RUN_TIMEOUT");

    let items = app.get("/transfers/", &user).await.body;
    let item = items["results"][0]["id"].clone();
    app.call(
        Method::PATCH,
        "/transfers/",
        Some(&user.token),
        Some(json!([{"id": item, "state": "done"}])),
    )
    .await;
    let got = events(&mut socket, 4).await;
    assert_eq!(
        kinds(&got),
        [
            "bulk-update transfer_item",
            "bulk-update job",
            "bulk-create log_event",
            "update state_counts"
        ]
    );
    assert_eq!(got[1]["data"][0]["state"], "STAGED_IN");

    app.delete(&format!("/jobs/{j2}"), &user).await;
    let got = events(&mut socket, 3).await;
    assert_eq!(
        kinds(&got),
        [
            "bulk-delete log_event",
            "bulk-delete job",
            "update state_counts"
        ]
    );
    assert_eq!(got[1]["data"], json!({"ids": [j2]}));

    // A cascading Site delete: the client hears of every removed row.
    app.delete(&format!("/sites/{}", site["id"]), &user).await;
    let got = events(&mut socket, 7).await;
    assert_eq!(
        kinds(&got),
        [
            "bulk-delete log_event",
            "bulk-delete transfer_item",
            "bulk-delete job",
            "delete batch_job",
            "delete app",
            "delete site",
            "update state_counts"
        ]
    );
    assert_eq!(got[6]["data"], json!([]));
    let seqs: Vec<i64> = got.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "consecutive: {seqs:?}"
    );
    quiet(&mut socket, 300).await;
    app.stop().await;
}

#[tokio::test]
async fn the_remaining_mutations_emit_their_events_too() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let (site, a) = world(&app, &user).await;
    let (mut socket, _) = hello(&app, &user, Some(2)).await;

    let bj = app
        .post(
            "/batch-jobs/",
            &user,
            json!({"site_id": site["id"], "project": "p", "queue": "q",
            "num_nodes": 1, "wall_time_min": 5, "job_mode": "mpi"}),
        )
        .await
        .body;
    let jobs = app
        .post("/jobs/", &user, json!([{"workdir": "1", "app_id": a["id"], "transfers": {"inp": {"location_alias": "laptop", "path": "/in"}}},
                                      {"workdir": "2", "app_id": a["id"]}]))
        .await
        .body;
    events(&mut socket, 5).await;
    let j2 = jobs[1]["id"].clone();
    let item = app.get("/transfers/", &user).await.body["results"][0]["id"].clone();

    let steps: Vec<(Method, String, Value, Vec<&str>)> = vec![
        (
            Method::PUT,
            format!("/apps/{}", a["id"]),
            json!({"description": "d"}),
            vec!["update app"],
        ),
        (
            Method::PUT,
            format!("/batch-jobs/{}", bj["id"]),
            json!({"state": "queued"}),
            vec!["update batch_job"],
        ),
        (
            Method::PATCH,
            "/batch-jobs/".into(),
            json!([{"id": bj["id"], "state": "running"}]),
            vec!["update batch_job"],
        ),
        (
            Method::PUT,
            format!("/jobs/{j2}"),
            json!({"batch_job_id": bj["id"]}),
            vec!["bulk-update job"],
        ),
        (
            Method::DELETE,
            format!("/batch-jobs/{}", bj["id"]),
            Value::Null,
            vec!["bulk-update job", "delete batch_job"],
        ),
        (
            Method::PUT,
            format!("/transfers/{item}"),
            json!({"task_id": "t"}),
            vec!["bulk-update transfer_item"],
        ),
        (
            Method::DELETE,
            "/jobs/?workdir__contains=2".into(),
            Value::Null,
            vec![
                "bulk-delete log_event",
                "bulk-delete job",
                "update state_counts",
            ],
        ),
        (
            Method::DELETE,
            format!("/apps/{}", a["id"]),
            Value::Null,
            vec![
                "bulk-delete log_event",
                "bulk-delete transfer_item",
                "bulk-delete job",
                "delete app",
                "update state_counts",
            ],
        ),
    ];
    for (method, path, body, expected) in steps {
        let body = (!body.is_null()).then_some(body);
        let r = app
            .call(method.clone(), &path, Some(&user.token), body)
            .await;
        assert!(r.status.is_success(), "{method} {path}: {}", r.text);
        let got = events(&mut socket, expected.len()).await;
        assert_eq!(kinds(&got), expected, "{method} {path}");
        match (method.as_str(), expected[0]) {
            ("PUT", "update app" | "update batch_job") => assert_eq!(got[0]["data"], r.body),
            ("DELETE", "bulk-update job") => {
                assert_eq!(got[0]["data"][0]["batch_job_id"], Value::Null)
            }
            _ => {}
        }
    }
    quiet(&mut socket, 300).await;
    app.stop().await;
}

#[tokio::test]
async fn list_responses_carry_the_sequence_they_reflect() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    world(&app, &user).await;
    let r = app.get("/sites/", &user).await;
    assert_eq!(r.headers["x-balsam-seq"], "2");
    let r = app.get("/jobs/", &user).await;
    assert_eq!(r.headers["x-balsam-seq"], "2");
    app.stop().await;
}
