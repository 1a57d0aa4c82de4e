//! Issue 12, "hardened for the open internet": every input gets a 4xx in upstream's error
//! shape, resources are bounded, logins are rate-limited and tokens revocable, paths cannot
//! climb out of the Site's data directory, and the websocket keeps to docs/realtime.md.

use crate::support::{TestApp, TestUser};

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod http_limits;
mod input;
mod logins;
mod tokens;
mod websockets;

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

/// Sends `head` on a raw connection; returns the status line's code and how long it took
/// (`None` when the server closed without answering).
async fn raw_request(app: &TestApp, head: String, wait: Duration) -> (Option<u16>, Duration) {
    let addr = app.addr();
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
