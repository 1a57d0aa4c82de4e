//! The event stream on a real socket: both protocols, resume, resync, isolation, codes.

use crate::support::{TestApp, TestUser};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

mod events;
mod resume;
mod sessions;
mod upstream;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn connect(app: &TestApp) -> Socket {
    let url = app.ws_url();
    let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    socket
}

/// Connects with our protocol; returns the socket and the welcome frame.
pub async fn hello(app: &TestApp, user: &TestUser, last_seq: Option<i64>) -> (Socket, Value) {
    hello_with(
        app,
        json!({"op": "hello", "token": user.token, "last_seq": last_seq}),
    )
    .await
}

/// Connects and sends `frame` as the hello; returns the socket and the welcome frame.
pub async fn hello_with(app: &TestApp, frame: Value) -> (Socket, Value) {
    let mut socket = connect(app).await;
    send_json(&mut socket, frame).await;
    let welcome = next_json(&mut socket).await.expect("welcome");
    assert_eq!(welcome["op"], "welcome", "{welcome}");
    (socket, welcome)
}

/// Sends `frame` as a text frame.
pub async fn send_json<S>(socket: &mut S, frame: Value)
where
    S: futures::Sink<Message> + Unpin,
    S::Error: std::fmt::Debug,
{
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
}

/// The next text or binary JSON frame, skipping pings; `None` on close or after 5 s.
pub async fn next_json(socket: &mut Socket) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .ok()??
            .ok()?;
        match msg {
            Message::Text(t) => return serde_json::from_str(&t).ok(),
            Message::Binary(b) => return serde_json::from_slice(&b).ok(),
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

/// Event frames (skipping control frames) until `n` have arrived.
pub async fn events(socket: &mut Socket, n: usize) -> Vec<Value> {
    let mut out = Vec::new();
    while out.len() < n {
        let frame = next_json(socket)
            .await
            .unwrap_or_else(|| panic!("only {} of {n} events: {out:?}", out.len()));
        if frame.get("op").is_none() {
            out.push(frame);
        }
    }
    out
}

/// Nothing more arrives within `ms` (control frames aside).
pub async fn quiet(socket: &mut Socket, ms: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, socket.next()).await {
        if let Message::Text(t) = &msg {
            let v: Value = serde_json::from_str(t).unwrap();
            assert!(v.get("op").is_some(), "unexpected event {v}");
        }
        assert!(
            !matches!(msg, Message::Binary(_)),
            "unexpected event {msg:?}"
        );
    }
}

/// The close code the server sends within `within`, skipping other frames.
pub async fn close_code(socket: &mut Socket, within: Duration) -> Option<CloseCode> {
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

fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["action"].as_str().unwrap(),
                e["type"].as_str().unwrap()
            )
        })
        .collect()
}

/// A Site with a transfer location and an App with an in slot.
async fn world(app: &TestApp, user: &TestUser) -> (Value, Value) {
    let transfers = json!({"inp": {"required": false, "direction": "in", "local_path": "in.dat"}});
    app.site_and_app(user, transfers).await
}

/// A socket on the upstream protocol (the raw token as the first frame), subscribed.
///
/// The upstream protocol says nothing once it has subscribed (an event committed before
/// then is not sent, as upstream). The server reads the next frame only once subscribed, so
/// the pong to a ping sent after the token is the sign to go on.
async fn upstream(app: &TestApp, user: &TestUser) -> Socket {
    let mut socket = connect(app).await;
    socket
        .send(Message::Text(user.token.clone().into()))
        .await
        .unwrap();
    socket
        .send(Message::Ping(b"sync".to_vec().into()))
        .await
        .unwrap();
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a pong once subscribed")
            .unwrap()
            .unwrap();
        if matches!(frame, Message::Pong(_)) {
            return socket;
        }
    }
}
