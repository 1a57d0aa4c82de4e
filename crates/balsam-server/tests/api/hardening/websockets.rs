//! The websocket keeps to docs/realtime.md under abuse: bad first frames, foreign origins,
//! sockets per address, replay slots, and clients that stop reading.
//!
//! Repetition note: each test spells out its requests and assertions step by step, so
//! tests here and in the other API test files look alike on purpose.

use super::{raw_request, world};
use crate::support::TestApp;
use crate::ws::{close_code, connect, hello, send_json};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn a_json_array_or_a_negative_last_seq_as_first_frame_closes_with_4004() {
    let app = TestApp::spawn().await;
    let user = app.new_user().await;
    let mut array = connect(&app).await;
    send_json(&mut array, json!([{"op": "hello", "token": user.token}])).await;
    assert_eq!(
        close_code(&mut array, Duration::from_secs(5)).await,
        Some(CloseCode::Library(4004))
    );
    // Even an array serde could read as a hello's fields.
    let mut tuple = connect(&app).await;
    send_json(&mut tuple, json!(["hello", user.token, null])).await;
    assert_eq!(
        close_code(&mut tuple, Duration::from_secs(5)).await,
        Some(CloseCode::Library(4004))
    );
    let mut negative = connect(&app).await;
    send_json(
        &mut negative,
        json!({"op": "hello", "token": user.token, "last_seq": -1}),
    )
    .await;
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
    let url = app.ws_url();
    let host = app.addr();
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
async fn connections_and_websockets_are_limited_per_address() {
    let app = TestApp::spawn_with(|c| {
        c.http.max_connections_per_address = 3;
        c.http.trusted_proxies = Vec::new();
        c.ws.max_per_address = 1;
    })
    .await;
    let addr = app.addr();
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
    let url = app.ws_url();
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
    let addr: std::net::SocketAddr = app.addr().parse().unwrap();
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(4096).unwrap();
    let stream = tcp.connect(addr).await.unwrap();
    let url = app.ws_url();
    let (mut stalled, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    send_json(&mut stalled, json!({"op": "hello", "token": user.token})).await;
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
        let url = app.ws_url();
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
