//! `GET /api/v1/subscribe-user`: the per-user event stream (see docs/realtime.md).
//!
//! Two protocols on one socket, chosen by the first frame:
//! * upstream's: the raw token as a text frame, then binary `{"action","type","data"}`
//!   frames; a bad token closes with 1008;
//! * ours: `{"op":"hello","token":…,"last_seq":n|null}`, then `welcome`, replay from the
//!   event log, live `{"seq":n,"action","type","data"}` frames, `heartbeat`s, and an explicit
//!   `resync` when the log no longer reaches back; named close codes.
//!
//! Either way the session subscribes to the channel layer before reading the log, tracks
//! the last sequence it sent, skips duplicates and fills every gap from the log, so a
//! message lost by the channel layer is delayed, never skipped.

use crate::auth::TokenError;
use crate::http::error::ApiError;
use crate::http::extract::ClientIp;
use crate::state::ServerState;
use axum::extract::ws::{CloseFrame, Message as Frame, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use balsam_channels::Delivery;
use balsam_types::{LoggedEvent, UserId};
use frames::{Control, Hello};
use futures::FutureExt;
use futures::StreamExt;
use std::time::Duration;

mod frames;

/// Close codes, for clients to act on.
pub mod close {
    /// The server is shutting down: reconnect (to another replica) and resume.
    pub const GOING_AWAY: u16 = 1001;
    /// Upstream protocol: the token was refused.
    pub const POLICY: u16 = 1008;
    /// The token is malformed, wrongly signed, revoked (logout, password change) or for a
    /// user that no longer exists: log in again.
    pub const BAD_TOKEN: u16 = 4001;
    /// The token expired (at connect or while connected): log in again.
    pub const TOKEN_EXPIRED: u16 = 4002;
    /// No token or hello arrived in time.
    pub const AUTH_TIMEOUT: u16 = 4003;
    /// The hello frame was not understood.
    pub const BAD_HELLO: u16 = 4004;
    /// The client did not accept frames fast enough: reconnect and resume.
    pub const SLOW_CONSUMER: u16 = 4008;
}

/// Most entries read from the log per query while replaying. What bounds a page is its
/// bytes (`ws.replay_page_kib`: an entry holds up to 1 000 full instances); together with
/// `ws.max_concurrent_replays` they bound the memory of any number of sockets resuming.
/// The store reads this many entries' sizes per page, which costs as much as stepping
/// over the rows (SQLite keeps the payload in the row): 64 covers a 4 MiB page of typical
/// entries without making every page scan far ahead.
const REPLAY_BATCH: i64 = 64;

/// Where a sequenced client says it is: its `last_seq` and the epoch it was counted under.
struct Resume {
    last_seq: Option<i64>,
    epoch: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Upstream,
    Sequenced,
}

/// Seconds a close frame may take to go out before the connection is dropped anyway.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Subscribe to the caller's live changes (websocket; see docs/realtime.md).
///
/// A browser's `Origin` must be the server's own host or one of `http.public_origins`;
/// clients that send none (the SDK, scripts) are not affected.
#[utoipa::path(get, path = "/subscribe-user", tag = "events",
    responses((status = 101, description = "Switching to the websocket protocol"),
        (status = 400, description = "Not a websocket upgrade request"),
        (status = 403, description = "The page's Origin may not open the websocket"),
        (status = 429, description = "Too many open websockets from this address")))]
pub async fn subscribe_user(
    ws: WebSocketUpgrade,
    State(state): State<ServerState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
) -> Response {
    if !origin_allowed(&headers, &state.config.http.public_origins) {
        return ApiError::Detail(
            StatusCode::FORBIDDEN,
            "This Origin may not open the websocket (see http.public_origins)".into(),
        )
        .into_response();
    }
    let Some(held) = state.websockets.try_hold(client) else {
        return ApiError::TooManyRequests(
            1,
            "Too many open websockets from this address (ws.max_per_address)".into(),
        )
        .into_response();
    };
    ws.on_upgrade(move |socket| async move {
        let _held = held;
        let conn_id = uuid::Uuid::new_v4().simple().to_string();
        let span =
            tracing::info_span!("ws", ws.conn_id = %conn_id, user.id = tracing::field::Empty);
        tracing::Instrument::instrument(run(socket, state), span).await;
    })
}

/// Whether a websocket request's `Origin` is acceptable: absent (not a browser), listed in
/// `public`, naming the host the request was sent to (ports aside: proxies may drop them
/// from `Host`), or a loopback page talking to a loopback server (`npm run dev`, whose
/// proxy rewrites `Host` to 127.0.0.1 while the page is on localhost).
fn origin_allowed(headers: &HeaderMap, public: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/');
    if public
        .iter()
        .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let Some((_, authority)) = origin.split_once("://") else {
        return false;
    };
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let (host, origin_host) = (host_part(host), host_part(authority));
    host.eq_ignore_ascii_case(origin_host) || (is_loopback(host) && is_loopback(origin_host))
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `host` of `host[:port]` or `[v6]` of `[v6][:port]`.
fn host_part(authority: &str) -> &str {
    match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    }
}

async fn run(mut socket: WebSocket, state: ServerState) {
    let timeout = Duration::from_secs(state.config.ws.auth_timeout_secs);
    let first = match tokio::time::timeout(timeout, next_text(&mut socket)).await {
        Ok(Some(text)) => text,
        Ok(None) => return,
        Err(_) => {
            return close_with(socket, close::AUTH_TIMEOUT, "no token received in time").await
        }
    };
    // Anything JSON-looking is meant as a hello (a bare token never starts with `{` or `[`).
    // serde would read a struct from an array too: only an object is a hello.
    let is_object = first.trim_start().starts_with('{');
    let (protocol, token, resume) = match first.trim_start().starts_with(['{', '[']) {
        true => match serde_json::from_str::<Hello>(&first) {
            Ok(h) if is_object && h.op == "hello" && h.last_seq.is_none_or(|s| s >= 0) => (
                Protocol::Sequenced,
                h.token,
                Resume {
                    last_seq: h.last_seq,
                    epoch: h.epoch,
                },
            ),
            _ => {
                return close_with(
                    socket,
                    close::BAD_HELLO,
                    "expected {\"op\":\"hello\",\"token\":…}",
                )
                .await
            }
        },
        false => (
            Protocol::Upstream,
            first.trim().to_owned(),
            Resume {
                last_seq: None,
                epoch: None,
            },
        ),
    };
    let verified = match state.tokens.verify(&token) {
        Ok(verified) => verified,
        Err(err) => {
            let (code, reason) = match (protocol, err) {
                (Protocol::Upstream, _) => (close::POLICY, "Could not validate credentials"),
                (_, TokenError::Expired) => (close::TOKEN_EXPIRED, "token expired"),
                (_, TokenError::Invalid) => (close::BAD_TOKEN, "invalid token"),
            };
            return close_with(socket, code, reason).await;
        }
    };
    let user = verified.user.id;
    match token_is_current(&state, user, verified.generation).await {
        Ok(true) => {}
        Ok(false) => return close_with(socket, revoked(protocol), "token revoked").await,
        Err(end) => return close_with(socket, end.0, end.1).await,
    }
    tracing::Span::current().record("user.id", user);
    let expires_in = verified.seconds_left();
    let mut session = Session {
        socket,
        state,
        user,
        generation: verified.generation,
        protocol,
        last_sent: 0,
    };
    let sessions = metrics::gauge!(crate::metrics::WS_SESSIONS);
    sessions.increment(1.0);
    let result = session.serve(resume, expires_in).await;
    sessions.decrement(1.0);
    if let Err(end) = result {
        tracing::debug!(reason = end.1, "websocket closed");
        match end.0 {
            0 => {}
            // Its buffers are full: a close frame goes out only if it fits right now, and
            // the connection is dropped either way, freeing what it held.
            close::SLOW_CONSUMER => {
                let frame = close_frame(end.0, end.1);
                let _ = session.socket.send(frame).now_or_never();
            }
            code => close_with(session.socket, code, end.1).await,
        }
    }
}

/// The close code for a revoked token or a deleted user.
fn revoked(protocol: Protocol) -> u16 {
    match protocol {
        Protocol::Upstream => close::POLICY,
        Protocol::Sequenced => close::BAD_TOKEN,
    }
}

/// Whether the user still exists and has not revoked tokens of this generation.
async fn token_is_current(state: &ServerState, user: UserId, generation: i64) -> Result<bool, End> {
    state
        .generations
        .is_current(state.store.as_ref(), user, generation)
        .await
        .map_err(|err| {
            tracing::error!(error = ?err, "cannot read the user's token generation");
            (close::GOING_AWAY, "user store unavailable")
        })
}

/// Why a session ended: a close code to send (0: none) and a reason.
type End = (u16, &'static str);

struct Session {
    socket: WebSocket,
    state: ServerState,
    user: UserId,
    /// The token's generation: the session ends when the user revokes it.
    generation: i64,
    protocol: Protocol,
    /// The last sequence number sent (or skipped over by a resync).
    last_sent: i64,
}

impl Session {
    async fn serve(&mut self, resume: Resume, expires_in: u64) -> Result<(), End> {
        // Subscribe before reading the log, so nothing committed in between is missed.
        let mut live = self
            .state
            .channels
            .subscribe(self.user)
            .await
            .map_err(|_| (close::GOING_AWAY, "channel layer unavailable"))?;
        let epoch = match self.protocol {
            Protocol::Sequenced => read_epoch(self.state.clone()).await?,
            Protocol::Upstream => String::new(),
        };
        let start = self.log(0, 0, 0).await?;
        let head = start.head;
        let heartbeat_secs = self.state.config.ws.ping_interval_secs;
        let welcome = |seq: i64, resumed: bool| Control::Welcome {
            seq,
            resumed,
            epoch: &epoch,
            heartbeat_secs,
        };
        let other_epoch = resume.epoch.as_ref().is_some_and(|e| *e != epoch);
        match (self.protocol, resume.last_seq) {
            (Protocol::Sequenced, Some(last))
                if other_epoch || last > head || last + 1 < start.first_available =>
            {
                // The client counted in another database (its epoch differs, or it knows of
                // changes this log never had), or missed entries that were pruned: nothing
                // to resume from.
                self.last_sent = head;
                self.send_control(welcome(head, false)).await?;
                self.send_control(Control::Resync { seq: head }).await?;
            }
            (Protocol::Sequenced, Some(last)) => {
                self.last_sent = last.max(0);
                self.send_control(welcome(head, true)).await?;
                self.catch_up().await?;
            }
            (Protocol::Sequenced, None) => {
                self.last_sent = head;
                self.send_control(welcome(head, false)).await?;
            }
            (Protocol::Upstream, _) => self.last_sent = head,
        }

        let ping_every = Duration::from_secs(self.state.config.ws.ping_interval_secs.max(1));
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
        let expiry = tokio::time::sleep(Duration::from_secs(expires_in));
        tokio::pin!(expiry);
        let check_every =
            Duration::from_millis(self.state.config.auth.revocation_check_ms.max(100));
        let mut revocation =
            tokio::time::interval_at(tokio::time::Instant::now() + check_every, check_every);
        revocation.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut shutdown = self.state.shutdown.clone();
        loop {
            tokio::select! {
                delivery = live.next() => match delivery {
                    Some(Delivery::Event(e)) if e.seq <= self.last_sent => {}
                    Some(Delivery::Event(e)) if e.seq == self.last_sent + 1 => {
                        self.send_event(&e).await?;
                        metrics::counter!(crate::metrics::EVENTS_DELIVERED).increment(1);
                    }
                    // A gap (lost, reordered or lagged messages): the log has everything.
                    Some(_) => self.catch_up().await?,
                    None => return Err((close::GOING_AWAY, "channel layer closed")),
                },
                frame = self.socket.recv() => match frame {
                    None | Some(Err(_)) | Some(Ok(Frame::Close(_))) => return Err((0, "client closed")),
                    Some(Ok(_)) => {} // pongs and client chatter are ignored
                },
                _ = ping.tick() => {
                    self.send(Frame::Ping(Default::default())).await?;
                    // Safety net: a lost last message would otherwise wait for the next one.
                    self.catch_up().await?;
                    if self.protocol == Protocol::Sequenced {
                        self.send_control(Control::Heartbeat { seq: self.last_sent }).await?;
                    }
                }
                () = &mut expiry => {
                    return Err(match self.protocol {
                        Protocol::Upstream => (close::POLICY, "token expired"),
                        Protocol::Sequenced => (close::TOKEN_EXPIRED, "token expired"),
                    });
                }
                _ = revocation.tick() => {
                    let state = self.state.clone();
                    if !token_is_current(&state, self.user, self.generation).await? {
                        return Err((revoked(self.protocol), "token revoked"));
                    }
                }
                _ = shutdown.changed() => return Err((close::GOING_AWAY, "server shutting down")),
            }
        }
    }

    /// Sends everything after `last_sent` from the log; past retention, a `resync`. Each
    /// page is read and sent holding one of the server's `ws.max_concurrent_replays` slots.
    #[tracing::instrument(name = "ws.catch_up", skip_all, fields(after = self.last_sent))]
    async fn catch_up(&mut self) -> Result<(), End> {
        loop {
            let _slot = self
                .state
                .replays
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| (close::GOING_AWAY, "server shutting down"))?;
            let max_bytes = self
                .state
                .config
                .ws
                .replay_page_kib
                .max(1)
                .saturating_mul(1024);
            let page = self.log(self.last_sent, REPLAY_BATCH, max_bytes).await?;
            if page.first_available > self.last_sent + 1 {
                // Pruned entries cannot be replayed: say so and continue from the head.
                self.last_sent = page.head;
                metrics::counter!(crate::metrics::RESYNCS).increment(1);
                if self.protocol == Protocol::Sequenced {
                    self.send_control(Control::Resync { seq: page.head })
                        .await?;
                }
                return Ok(());
            }
            let done = page.events.last().is_none_or(|e| e.seq >= page.head);
            let replayed = page.events.len() as u64;
            // Each entry is dropped once sent, so the page shrinks while it goes out.
            for event in page.events {
                self.send_event(&event).await?;
            }
            metrics::counter!(crate::metrics::EVENTS_REPLAYED).increment(replayed);
            if done {
                return Ok(());
            }
        }
    }

    fn log(
        &self,
        after: i64,
        limit: i64,
        max_bytes: usize,
    ) -> impl std::future::Future<Output = Result<balsam_store::ChangeLogPage, End>> + Send + 'static
    {
        read_log(self.state.clone(), self.user, after, limit, max_bytes)
    }

    async fn send_event(&mut self, event: &LoggedEvent) -> Result<(), End> {
        let frame = match self.protocol {
            // The pushed state counts are ours, not upstream's: its dashboards never see
            // them (the upstream protocol has no sequence numbers to leave a hole in).
            Protocol::Upstream if is_state_counts(&event.payload) => {
                self.last_sent = event.seq;
                return Ok(());
            }
            // Upstream dashboards get the bytes exactly as published: binary JSON frames.
            Protocol::Upstream => Frame::Binary(event.payload.as_bytes().to_vec().into()),
            // `{"seq":n,` + the stored `{"action",…}` minus its brace: no re-encoding.
            Protocol::Sequenced => {
                let body = event.payload.strip_prefix('{').unwrap_or(&event.payload);
                Frame::Text(Utf8Bytes::from(format!("{{\"seq\":{},{body}", event.seq)))
            }
        };
        self.send(frame).await?;
        self.last_sent = event.seq;
        Ok(())
    }

    async fn send_control(&mut self, control: Control<'_>) -> Result<(), End> {
        self.send(Frame::Text(Utf8Bytes::from(control.to_json())))
            .await
    }

    async fn send(&mut self, frame: Frame) -> Result<(), End> {
        let timeout = Duration::from_secs(self.state.config.ws.send_timeout_secs.max(1));
        match tokio::time::timeout(timeout, self.socket.send(frame)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err((0, "client went away")),
            Err(_) => Err((close::SLOW_CONSUMER, "slow consumer")),
        }
    }
}

/// Reads the log's epoch without holding the socket across the await.
async fn read_epoch(state: ServerState) -> Result<String, End> {
    state.store.log_epoch().await.map_err(|err| {
        tracing::error!(error = ?err, "cannot read the event log's epoch");
        (close::GOING_AWAY, "event log unavailable")
    })
}

/// Reads the log without holding the socket (which is not `Sync`) across the await.
async fn read_log(
    state: ServerState,
    user: UserId,
    after: i64,
    limit: i64,
    max_bytes: usize,
) -> Result<balsam_store::ChangeLogPage, End> {
    state
        .store
        .events_after(user, after, limit, max_bytes)
        .await
        .map_err(|err| {
            tracing::error!(error = ?err, "cannot read the event log");
            (close::GOING_AWAY, "event log unavailable")
        })
}

async fn next_text(socket: &mut WebSocket) -> Option<String> {
    loop {
        match socket.recv().await? {
            Ok(Frame::Text(text)) => return Some(text.to_string()),
            Ok(Frame::Binary(bytes)) => return String::from_utf8(bytes.to_vec()).ok(),
            Ok(Frame::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

fn close_frame(code: u16, reason: &'static str) -> Frame {
    Frame::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}

/// Sends a close frame, waiting at most [`CLOSE_TIMEOUT`] for it to go out.
async fn close_with(mut socket: WebSocket, code: u16, reason: &'static str) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, socket.send(close_frame(code, reason))).await;
}

/// Whether a logged change is the `state_counts` one (`Outbox::state_counts_payload`).
fn is_state_counts(payload: &str) -> bool {
    payload.starts_with(r#"{"action":"update","type":"state_counts","#)
}
