//! Issue 12, "hardened for the open internet": every input gets a 4xx in upstream's error
//! shape, resources are bounded, logins are rate-limited and tokens revocable, paths cannot
//! climb out of the Site's data directory, and the websocket keeps to docs/realtime.md.

use crate::support::{TestApp, TestUser};
use crate::ws::{connect, hello};
use futures::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

/// A Site, an App with an in slot, and one job; returns (site, app, job) ids.
async fn world(app: &TestApp, user: &TestUser) -> (i64, i64, i64) {
    let site = app.site(user, "s").await["id"].as_i64().unwrap();
    let a = app
        .post(
            "/apps/",
            user,
            json!({"site_id": site, "name": "A", "serialized_class": "x",
            "source_code": "y",
            "transfers": {"inp": {"required": false, "direction": "in", "local_path": "in.dat"}}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let a = a.body["id"].as_i64().unwrap();
    let job = app
        .post("/jobs/", user, json!([{"workdir": "w", "app_id": a}]))
        .await;
    assert_eq!(job.status, StatusCode::CREATED, "{}", job.text);
    (site, a, job.body[0]["id"].as_i64().unwrap())
}

/// The first validation error's `loc` and `type`.
fn first_error(r: &crate::support::Reply) -> (Value, Value) {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let e = &r.body["detail"][0];
    (e["loc"].clone(), e["type"].clone())
}

async fn close_code(socket: &mut crate::ws::Socket, within: Duration) -> Option<CloseCode> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, socket.next())
            .await
            .ok()?
        {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code),
            Some(Ok(_)) => {}
            _ => return None,
        }
    }
}

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

#[tokio::test]
async fn a_json_array_or_a_negative_last_seq_as_first_frame_closes_with_4004() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let mut array = connect(&app).await;
    array
        .send(Message::Text(
            json!([{"op": "hello", "token": user.token}])
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    assert_eq!(
        close_code(&mut array, Duration::from_secs(5)).await,
        Some(CloseCode::Library(4004))
    );
    // Even an array serde could read as a hello's fields.
    let mut tuple = connect(&app).await;
    tuple
        .send(Message::Text(
            json!(["hello", user.token, null]).to_string().into(),
        ))
        .await
        .unwrap();
    assert_eq!(
        close_code(&mut tuple, Duration::from_secs(5)).await,
        Some(CloseCode::Library(4004))
    );
    let mut negative = connect(&app).await;
    negative
        .send(Message::Text(
            json!({"op": "hello", "token": user.token, "last_seq": -1})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    assert_eq!(
        close_code(&mut negative, Duration::from_secs(5)).await,
        Some(CloseCode::Library(4004))
    );
    app.stop().await;
}

#[tokio::test]
async fn websocket_origins_must_be_the_servers_own_or_configured() {
    let app = TestApp::spawn_with(|c| {
        c.http.public_origins = vec!["https://balsam.example.org".into()];
    })
    .await;
    let url = format!(
        "{}/subscribe-user",
        app.base.replacen("http://", "ws://", 1)
    );
    let host = app
        .base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let attempt = |origin: Option<String>| {
        let url = url.clone();
        async move {
            use tokio_tungstenite::tungstenite::client::IntoClientRequest;
            let mut req = url.into_client_request().unwrap();
            if let Some(origin) = origin {
                req.headers_mut().insert("origin", origin.parse().unwrap());
            }
            match tokio_tungstenite::connect_async(req).await {
                Ok(_) => 101,
                Err(tokio_tungstenite::tungstenite::Error::Http(res)) => res.status().as_u16(),
                Err(other) => panic!("{other}"),
            }
        }
    };
    assert_eq!(attempt(Some("https://evil.example".into())).await, 403);
    assert_eq!(attempt(Some("null".into())).await, 403);
    assert_eq!(attempt(Some(format!("http://{host}"))).await, 101);
    // `npm run dev`: a page on localhost, proxied to the server on 127.0.0.1.
    assert_eq!(attempt(Some("http://localhost:5173".into())).await, 101);
    assert_eq!(
        attempt(Some("http://localhost.evil.example".into())).await,
        403
    );
    assert_eq!(
        attempt(Some("https://balsam.example.org".into())).await,
        101
    );
    assert_eq!(attempt(None).await, 101);
    app.stop().await;
}

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

/// Sends `head` on a raw connection; returns the status line's code and how long it took
/// (`None` when the server closed without answering).
async fn raw_request(app: &TestApp, head: String, wait: Duration) -> (Option<u16>, Duration) {
    let addr = app
        .base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let start = Instant::now();
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(wait, conn.read(&mut buf))
        .await
        .map(|r| r.unwrap_or(0))
        .unwrap_or(0);
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    let code = text.split(' ').nth(1).and_then(|c| c.parse().ok());
    (code, start.elapsed())
}

#[tokio::test]
async fn oversized_bodies_are_refused_from_their_content_length_before_reading() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let head = format!(
        "POST /api/v1/jobs/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 3000000000\r\n\r\n[",
        user.token
    );
    let (code, took) = raw_request(&app, head, Duration::from_secs(3)).await;
    assert_eq!(code, Some(413));
    assert!(took < Duration::from_secs(2), "{took:?}");
    // Anonymous routes take small bodies only.
    let big = format!("username=u&password={}", "x".repeat(100 * 1024));
    let res = app
        .client
        .post(format!("{}/auth/password/login", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("larger than"),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn connections_that_send_headers_slowly_are_closed() {
    let app = TestApp::spawn_with(|c| c.http.header_read_timeout_secs = 1).await;
    let (code, took) = raw_request(
        &app,
        "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n".into(),
        Duration::from_secs(5),
    )
    .await;
    assert!(
        took < Duration::from_secs(4),
        "still open after {took:?} (answer {code:?})"
    );
    app.stop().await;
}

#[tokio::test]
async fn every_operation_declares_its_401_and_422() {
    let doc = serde_json::to_value(balsam_server::http::openapi()).unwrap();
    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let secured = op
                .get("security")
                .is_some_and(|s| !s.as_array().unwrap().is_empty());
            let has_input = secured
                || op
                    .get("parameters")
                    .is_some_and(|p| !p.as_array().unwrap().is_empty())
                || op.get("requestBody").is_some();
            if secured && !responses.contains_key("401") {
                missing.push(format!("{method} {path}: 401"));
            }
            if has_input && !responses.contains_key("422") {
                missing.push(format!("{method} {path}: 422"));
            }
        }
    }
    assert!(missing.is_empty(), "undeclared: {missing:#?}");
}

#[tokio::test]
async fn large_bodies_are_handled_a_few_at_a_time() {
    let app = TestApp::spawn_with(|c| {
        c.http.large_body_mib = 1;
        c.http.max_concurrent_large_bodies = 1;
        c.http.request_timeout_secs = 1;
    })
    .await;
    let user = app.new_user().await;
    // A slow upload of a 2 MiB body holds the only slot...
    let addr = app
        .base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/sites/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 2097152\r\n\r\n{{",
        user.token
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // ...so another large body waits for it (here: until the slow one times out)...
    let big = json!({"name": "n", "path": "/p", "padding": "x".repeat(2 * 1024 * 1024)});
    let start = Instant::now();
    let r = app.post("/sites/", &user, big).await;
    let waited = start.elapsed();
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(waited > Duration::from_millis(600), "{waited:?}");
    // ...while small bodies never wait for a slot.
    let mut slow2 = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow2.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    let small = app
        .post("/sites/", &user, json!({"name": "s", "path": "/s"}))
        .await;
    assert_eq!(small.status, StatusCode::CREATED, "{}", small.text);
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
    drop(slow2);
    drop(slow);
    app.stop().await;
}

#[tokio::test]
async fn connections_and_websockets_are_limited_per_address() {
    let app = TestApp::spawn_with(|c| {
        c.http.max_connections_per_address = 3;
        c.http.trusted_proxies = Vec::new();
        c.ws.max_per_address = 1;
    })
    .await;
    let addr = app
        .base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    // Two idle connections, and the client's own pool, fill the allowance.
    let user = app.new_user().await;
    let _a = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let _b = tokio::net::TcpStream::connect(&addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (code, _) = raw_request(
        &app,
        "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n".into(),
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(code, Some(503));
    drop((_a, _b));
    tokio::time::sleep(Duration::from_millis(100)).await;
    // One websocket per address here: the second handshake is refused.
    let (_first, _) = hello(&app, &user, None).await;
    let url = format!(
        "{}/subscribe-user",
        app.base.replacen("http://", "ws://", 1)
    );
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status().as_u16(), 429);
        }
        other => panic!("expected 429, got {:?}", other.map(|_| ())),
    }
    app.stop().await;
}

#[tokio::test]
async fn many_sockets_resuming_a_long_backlog_take_turns_and_get_everything() {
    // One replay slot, and 1 KiB pages (a few site updates each): the backlog crosses
    // many byte-cut pages and still arrives whole, in order, once.
    let app = TestApp::spawn_with(|c| {
        c.ws.max_concurrent_replays = 1;
        c.ws.replay_page_kib = 1;
    })
    .await;
    let user = app.new_user().await;
    let (site, _, _) = world(&app, &user).await;
    let (probe, welcome) = hello(&app, &user, None).await;
    drop(probe);
    let start = welcome["seq"].as_i64().unwrap();
    for i in 0..100 {
        app.put(
            &format!("/sites/{site}"),
            &user,
            json!({"name": format!("n{i}")}),
        )
        .await;
    }
    let resumes = (0..4).map(|_| async {
        let (mut socket, welcome) = hello(&app, &user, Some(start)).await;
        assert_eq!(welcome["resumed"], true);
        let got = crate::ws::events(&mut socket, 100).await;
        got.iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect::<Vec<_>>()
    });
    for seqs in futures::future::join_all(resumes).await {
        assert_eq!(seqs, ((start + 1)..=start + 100).collect::<Vec<_>>());
    }
    app.stop().await;
}

#[tokio::test]
async fn a_socket_that_reads_nothing_is_released_after_the_send_timeout() {
    let app = TestApp::spawn_with(|c| {
        c.ws.send_timeout_secs = 1;
        c.ws.max_per_address = 1;
    })
    .await;
    let user = app.new_user().await;
    let (_, a, _) = world(&app, &user).await;
    // A client with a tiny receive buffer that never reads after its welcome.
    let addr: std::net::SocketAddr = app
        .base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(4096).unwrap();
    let stream = tcp.connect(addr).await.unwrap();
    let url = format!(
        "{}/subscribe-user",
        app.base.replacen("http://", "ws://", 1)
    );
    let (mut stalled, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    stalled
        .send(Message::Text(
            json!({"op": "hello", "token": user.token})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let welcome = match stalled.next().await {
        Some(Ok(Message::Text(t))) => serde_json::from_str::<Value>(&t).unwrap(),
        other => panic!("expected the welcome, got {other:?}"),
    };
    assert_eq!(welcome["op"], "welcome");
    // Megabytes of events it will never read.
    let padding = "x".repeat(1024);
    for round in 0..6 {
        let jobs: Vec<Value> = (0..1000)
            .map(|i| json!({"workdir": format!("r{round}/{i}"), "app_id": a, "data": {"p": padding}}))
            .collect();
        let r = app.post("/jobs/", &user, json!(jobs)).await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    // Within the send timeout (and a margin) its place is free again: its task ended
    // instead of blocking on its own close frame.
    let deadline = Instant::now() + Duration::from_secs(6);
    loop {
        let url = format!(
            "{}/subscribe-user",
            app.base.replacen("http://", "ws://", 1)
        );
        match tokio_tungstenite::connect_async(url).await {
            Ok(_) => break,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(err) => panic!("the stalled socket still holds its place: {err}"),
        }
    }
    drop(stalled);
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
