//! HTTP resources are bounded: body sizes, slow headers, concurrent large bodies, and
//! every operation declares its 401 and 422.

use super::raw_request;
use crate::support::TestApp;

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

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
    let addr = app.addr();
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

/// A request no route takes (405 here) with a body the client is still sending: the
/// server reads the body before it answers, so the keep-alive connection carries the
/// client's next request (the SDK reuses it; a reset there failed its calls at random).
#[tokio::test]
async fn an_unmatched_request_with_a_body_keeps_its_connection() {
    let app = TestApp::spawn().await;
    let mut conn = tokio::net::TcpStream::connect(app.addr()).await.unwrap();
    conn.write_all(
        b"PATCH /api/v1/jobs/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n",
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    conn.write_all(b"{}").await.unwrap();
    let first = read_answer(&mut conn).await;
    assert!(first.starts_with("HTTP/1.1 405"), "{first}");
    assert!(first.contains("Method Not Allowed"), "{first}");
    conn.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let second = read_answer(&mut conn).await;
    assert!(
        second.starts_with("HTTP/1.1 200"),
        "the connection was dropped: {second:?}"
    );
    app.stop().await;
}

/// What the server sends within 5 s (one read).
async fn read_answer(conn: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf))
        .await
        .map(|r| r.unwrap_or(0))
        .unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).to_string()
}
