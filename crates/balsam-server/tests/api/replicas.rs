//! Two replicas sharing PostgreSQL and Redis: a change made through one reaches the
//! websocket clients of the other, and a Redis outage loses nothing. Runs when
//! `BALSAM_TEST_POSTGRES_URL` is set; starts a throwaway redis-server of its own.
//!
//! Repetition note: this file spells out a step another crate's test or client spells out
//! too (starting a server, waiting for a port, a call with its error handling); crates do
//! not share test code.

use crate::support::TestApp;
use crate::ws::{events, hello};
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

struct Redis {
    port: u16,
    child: Child,
}

impl Redis {
    fn start(port: u16) -> Redis {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        for _ in 0..50 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Redis { port, child }
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn a_write_on_one_replica_reaches_the_other_even_across_a_redis_outage() {
    if std::env::var("BALSAM_TEST_POSTGRES_URL").is_err() {
        eprintln!("skipped: needs BALSAM_TEST_POSTGRES_URL");
        return;
    }
    let redis = Redis::start(free_port());
    let redis_url = format!("redis://127.0.0.1:{}", redis.port);
    let prefix = format!("replicas-{}:", uuid::Uuid::new_v4().simple());
    let secret = format!("shared-secret-{}", uuid::Uuid::new_v4().simple());
    let (url, pre, sec) = (redis_url.clone(), prefix.clone(), secret.clone());
    let a = TestApp::spawn_with(move |c| {
        c.channels.redis_url = url;
        c.channels.redis_prefix = pre;
        c.auth.secret_key = sec.into();
    })
    .await;
    let (url, pre, sec, db) = (
        redis_url.clone(),
        prefix.clone(),
        secret.clone(),
        a.database_url.clone(),
    );
    let b = TestApp::spawn_with(move |c| {
        c.channels.redis_url = url;
        c.channels.redis_prefix = pre;
        c.auth.secret_key = sec.into();
        c.database.url = db;
        c.ws.ping_interval_secs = 1;
    })
    .await;

    let user = a.new_user().await;
    let (mut on_b, welcome) = hello(&b, &user, None).await;
    assert_eq!(welcome["seq"], 0);
    let site = a
        .post("/sites/", &user, json!({"name": "s", "path": "/s"}))
        .await
        .body;
    let got = events(&mut on_b, 1).await;
    assert_eq!(got[0]["data"], site, "written on A, delivered on B");

    // Redis goes away while A keeps writing; B's client must still end with everything.
    redis.stop();
    for i in 0..5 {
        let r = a
            .put(
                &format!("/sites/{}", site["id"]),
                &user,
                json!({"path": format!("/p{i}")}),
            )
            .await;
        assert!(
            r.status.is_success(),
            "a publish failure never fails the request"
        );
    }
    let redis = Redis::start(free_port_same(&redis_url));
    for i in 5..8 {
        a.put(
            &format!("/sites/{}", site["id"]),
            &user,
            json!({"path": format!("/p{i}")}),
        )
        .await;
    }
    let head: i64 = a.get("/sites/", &user).await.headers["x-balsam-seq"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(head, 9);
    let got = events(&mut on_b, 8).await;
    let seqs: Vec<i64> = got.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (2..=9).collect::<Vec<_>>(),
        "every event, in order, once"
    );
    assert_eq!(got[7]["data"]["path"], "/p7");
    crate::ws::quiet(&mut on_b, 1500).await;
    redis.stop();
    b.stop().await;
    a.stop().await;
}

/// The port of `redis://127.0.0.1:PORT`, to restart Redis where the replicas expect it.
fn free_port_same(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_logout_on_one_replica_revokes_the_token_on_the_other_within_a_second() {
    if std::env::var("BALSAM_TEST_POSTGRES_URL").is_err() {
        eprintln!("skipped: needs BALSAM_TEST_POSTGRES_URL");
        return;
    }
    let secret = format!("shared-secret-{}", uuid::Uuid::new_v4().simple());
    let sec = secret.clone();
    let a = TestApp::spawn_with(move |c| c.auth.secret_key = sec.into()).await;
    let db = a.database_url.clone();
    let b = TestApp::spawn_with(move |c| {
        c.auth.secret_key = secret.into();
        c.database.url = db;
    })
    .await;
    let user = a.new_user().await;
    let (mut on_b, _) = hello(&b, &user, None).await;
    assert_eq!(b.get("/sites/", &user).await.status, StatusCode::OK);
    let out = a
        .call(Method::POST, "/auth/logout", Some(&user.token), None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let start = std::time::Instant::now();
    while b.get("/sites/", &user).await.status != StatusCode::UNAUTHORIZED {
        assert!(
            start.elapsed() < Duration::from_millis(1500),
            "B still accepts the token"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let closed = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match on_b.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code),
                Some(Ok(_)) => {}
                _ => return None,
            }
        }
    })
    .await
    .expect("B's websocket closes");
    assert_eq!(closed, Some(CloseCode::Library(4001)));
    b.stop().await;
    a.stop().await;
}
