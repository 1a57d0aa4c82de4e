//! The `ws` scenario: event delivery over `/subscribe-user` (docs/realtime.md).
//!
//! `--ws-subscribers` sockets of the bench user say `{"op":"hello","token":…,"last_seq":null}`
//! and wait for `welcome`. Then the tool creates `--ws-jobs` jobs and PATCHes them
//! (STAGED_IN -> PREPROCESSED), `--batch` per call, one call at a time. After every call
//! it reads the user's log head (`X-Balsam-Seq` of `GET /sites/`), so each call owns the
//! seq range (head before, head after]. Delivery latency of a call at a subscriber is the
//! time from the call's HTTP response (body read) to the arrival of the call's last
//! event frame there. At the end every subscriber must have received every seq from
//! its welcome to the final head exactly once and in order, and every job of every call
//! exactly once in that call's `job` frames.
//!
//! Against a server without our protocol (upstream closes the socket with 1008 when the
//! first frame is not a JWT; other servers answer the upgrade with 404) the row is n/a.

use super::{id_of, Ctx};
use crate::api::{excerpt, Body};
use crate::report::{say, Progress, Row, Status};
use anyhow::{anyhow, bail, Context, Result};
use futures::{SinkExt, StreamExt};
use reqwest::Method;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long connecting plus hello -> welcome may take per socket.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The `ws` URL of `/subscribe-user` under the API root.
pub fn subscribe_url(api_root: &str) -> Result<String> {
    let root = api_root.trim_end_matches('/');
    let rest = if let Some(r) = root.strip_prefix("http://") {
        format!("ws://{r}")
    } else if let Some(r) = root.strip_prefix("https://") {
        format!("wss://{r}")
    } else {
        bail!("--url must be http(s), got {api_root}");
    };
    Ok(format!("{rest}/subscribe-user"))
}

/// The parts of a frame the tool looks at; `data` is skimmed for instance ids only, so
/// a 1 000-job frame costs a parse, not a tree of `Value`s.
#[derive(Deserialize)]
struct WireFrame {
    op: Option<String>,
    seq: Option<i64>,
    #[serde(rename = "type")]
    kind: Option<String>,
    action: Option<String>,
    #[serde(default)]
    data: Data,
}

#[derive(Default)]
struct Data {
    /// Ids of the instances when `data` is a list (bulk events); a single instance or
    /// `{"ids": [...]}` counts as one item with no ids recorded.
    ids: Vec<i64>,
    items: u64,
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Data, D::Error> {
        #[derive(Deserialize)]
        struct IdOnly {
            id: Option<i64>,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Data;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("event data")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data, A::Error> {
                let mut out = Data::default();
                while let Some(item) = seq.next_element::<IdOnly>()? {
                    out.items += 1;
                    if let Some(id) = item.id {
                        out.ids.push(id);
                    }
                }
                Ok(out)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Data {
                    ids: Vec::new(),
                    items: 1,
                })
            }
            fn visit_unit<E>(self) -> Result<Data, E> {
                Ok(Data::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// One event frame as a subscriber received it.
struct Received {
    seq: i64,
    at: Instant,
    kind: String,
    action: String,
    items: u64,
    ids: Vec<i64>,
}

#[derive(Default)]
struct SubscriberOutcome {
    frames: Vec<Received>,
    heartbeats: u64,
    bytes: u64,
    error: Option<String>,
}

/// One change the tool made while the subscribers listened.
struct Call {
    create: bool,
    ids: Vec<i64>,
    responded: Instant,
    /// The call's events are the seqs in (lo, hi].
    lo: i64,
    hi: i64,
}

/// What became of connecting one socket.
enum Connect {
    Welcome {
        socket: Box<Socket>,
        seq: i64,
        took: Duration,
    },
    /// The server does not speak our protocol here (n/a).
    NotOffered(String),
    Failed(String),
}

async fn connect(url: &str, token: &str) -> Connect {
    let t0 = Instant::now();
    let attempt = async {
        let (mut socket, _) = match tokio_tungstenite::connect_async(url).await {
            Ok(ok) => ok,
            Err(tungstenite::Error::Http(resp)) => {
                return Connect::NotOffered(format!(
                    "the websocket upgrade at {url} answered HTTP {}",
                    resp.status().as_u16()
                ))
            }
            Err(e) => return Connect::Failed(format!("connecting to {url}: {e}")),
        };
        let hello = json!({"op": "hello", "token": token, "last_seq": null});
        if let Err(e) = socket.send(Message::Text(hello.to_string().into())).await {
            return Connect::Failed(format!("sending the hello: {e}"));
        }
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = match serde_json::from_str(&t) {
                        Ok(v) => v,
                        Err(_) => {
                            return Connect::NotOffered(format!(
                                "the first frame after the hello is not JSON: {}",
                                excerpt(&t)
                            ))
                        }
                    };
                    return match (v["op"].as_str(), v["seq"].as_i64()) {
                        (Some("welcome"), Some(seq)) => Connect::Welcome {
                            socket: Box::new(socket),
                            seq,
                            took: t0.elapsed(),
                        },
                        (Some(_), _) => Connect::Failed(format!(
                            "expected a welcome after the hello, got {}",
                            excerpt(&t)
                        )),
                        _ => Connect::NotOffered(format!(
                            "the first frame after the hello is not a welcome: {}",
                            excerpt(&t)
                        )),
                    };
                }
                Some(Ok(Message::Binary(b))) => {
                    return Connect::NotOffered(format!(
                        "a binary frame instead of a welcome (upstream's protocol?): {}",
                        excerpt(&String::from_utf8_lossy(&b))
                    ))
                }
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((0, String::new()));
                    // 1008 is upstream's answer to a first frame that is not a valid JWT.
                    let msg = format!(
                        "the server closed the socket after the hello with code {code} {reason:?} (no sequenced protocol)"
                    );
                    return if code == u16::from(CloseCode::Policy) {
                        Connect::NotOffered(msg)
                    } else {
                        Connect::Failed(msg)
                    };
                }
                Some(Ok(_)) => continue, // ping/pong
                Some(Err(e)) => return Connect::Failed(format!("reading the welcome: {e}")),
                None => {
                    return Connect::NotOffered(
                        "the server closed the connection after the hello".into(),
                    )
                }
            }
        }
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
        Ok(c) => c,
        Err(_) => Connect::Failed(format!(
            "no welcome within {} s of connecting to {url}",
            CONNECT_TIMEOUT.as_secs()
        )),
    }
}

/// Target for the readers: stop once this seq arrived, or at the instant.
type Target = Option<(i64, tokio::time::Instant)>;

/// Reads frames until the target seq has arrived (or the deadline passes).
async fn subscriber(
    mut socket: Box<Socket>,
    mut target: watch::Receiver<Target>,
) -> SubscriberOutcome {
    let mut out = SubscriberOutcome::default();
    let mut last = i64::MIN;
    let far = tokio::time::Instant::now() + Duration::from_secs(365 * 86_400);
    loop {
        let current = *target.borrow_and_update();
        if let Some((want, _)) = current {
            if last >= want {
                break;
            }
        }
        let until = current.map_or(far, |(_, d)| d);
        tokio::select! {
            msg = socket.next() => {
                let at = Instant::now();
                match msg {
                    Some(Ok(Message::Text(t))) => {
                        out.bytes += t.len() as u64;
                        let frame: WireFrame = match serde_json::from_str(&t) {
                            Ok(f) => f,
                            Err(e) => {
                                out.error = Some(format!("unparsable frame ({e}): {}", excerpt(&t)));
                                break;
                            }
                        };
                        match (frame.op.as_deref(), frame.seq) {
                            (Some("heartbeat"), _) => out.heartbeats += 1,
                            (Some(op), _) => {
                                out.error = Some(format!("unexpected control frame {op}: {}", excerpt(&t)));
                                break;
                            }
                            (None, Some(seq)) => {
                                last = last.max(seq);
                                out.frames.push(Received {
                                    seq,
                                    at,
                                    kind: frame.kind.unwrap_or_default(),
                                    action: frame.action.unwrap_or_default(),
                                    items: frame.data.items,
                                    ids: frame.data.ids,
                                });
                            }
                            (None, None) => {
                                out.error = Some(format!("an event without seq: {}", excerpt(&t)));
                                break;
                            }
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        out.error = Some("a binary (upstream-protocol) frame on a sequenced socket".into());
                        break;
                    }
                    Some(Ok(Message::Close(frame))) => {
                        let (code, reason) = frame
                            .map(|f| (u16::from(f.code), f.reason.to_string()))
                            .unwrap_or((0, String::new()));
                        out.error = Some(format!("the server closed the socket: {code} {reason:?}"));
                        break;
                    }
                    Some(Ok(_)) => {} // pings are answered by tungstenite
                    Some(Err(e)) => {
                        out.error = Some(format!("reading: {e}"));
                        break;
                    }
                    None => {
                        out.error = Some("the connection ended".into());
                        break;
                    }
                }
            }
            changed = target.changed() => {
                if changed.is_err() {
                    out.error = Some("aborted".into());
                    break;
                }
            }
            _ = tokio::time::sleep_until(until) => {
                out.error = Some(format!(
                    "timed out waiting for seq {} (last received {})",
                    current.map_or(0, |c| c.0),
                    if last == i64::MIN { "none".to_string() } else { last.to_string() }
                ));
                break;
            }
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), (*socket).close(None)).await;
    out
}

impl Ctx {
    /// The user's event-log head, from the `X-Balsam-Seq` header of a small list.
    async fn log_head(&self) -> Result<i64> {
        let reply = self
            .api()?
            .call(Method::GET, "sites/", Body::None, 200)
            .await?;
        reply
            .seq
            .ok_or_else(|| anyhow!("GET /sites/ has no X-Balsam-Seq header"))
    }

    pub async fn ws(&mut self) -> Result<Vec<Row>> {
        let url = subscribe_url(&self.args.url)?;
        let n_subs = self.args.ws_subscribers;
        let mut connect_row = Row::new("ws/connect");

        // Probe with one socket: whether the protocol is offered at all.
        let t_connect = Instant::now();
        let mut sockets = Vec::with_capacity(n_subs);
        let mut welcome_seqs = Vec::with_capacity(n_subs);
        match connect(&url, &self.token).await {
            Connect::Welcome { socket, seq, took } => {
                connect_row.record(took);
                sockets.push(socket);
                welcome_seqs.push(seq);
            }
            Connect::NotOffered(why) => {
                let mut row = Row::new("ws");
                row.status = Status::NotAvailable(format!(
                    "{why}: no sequenced event stream here (upstream's stream carries no job events at all)"
                ));
                say(&format!("[ws] n/a: {why}"));
                return Ok(vec![row]);
            }
            Connect::Failed(why) => bail!("subscriber 0: {why}"),
        }
        for i in 1..n_subs {
            self.check_deadline()?;
            match connect(&url, &self.token).await {
                Connect::Welcome { socket, seq, took } => {
                    connect_row.record(took);
                    sockets.push(socket);
                    welcome_seqs.push(seq);
                }
                Connect::NotOffered(why) | Connect::Failed(why) => {
                    bail!("subscriber {i}: {why}")
                }
            }
        }
        connect_row.wall = t_connect.elapsed();
        connect_row.note =
            format!("{n_subs} sockets, one after another: connect, hello, welcome ({url})");

        let head0 = self.log_head().await.context("reading the log head")?;
        for (i, s) in welcome_seqs.iter().enumerate() {
            if *s != head0 {
                self.problem(format!(
                    "subscriber {i}: welcome seq {s}, but the log head (X-Balsam-Seq) is {head0} with no change in between"
                ));
            }
        }

        let (target_tx, target_rx) = watch::channel::<Target>(None);
        let readers: Vec<_> = sockets
            .into_iter()
            .map(|s| tokio::spawn(subscriber(s, target_rx.clone())))
            .collect();
        drop(target_rx);

        // The changes: bulk-creates, then bulk-PATCHes of the same jobs.
        let api = self.api()?.clone();
        let app_id = self
            .app_id
            .ok_or_else(|| anyhow!("setup did not complete"))?;
        let (n, batch) = (self.args.ws_jobs, self.args.batch);
        let mut calls_row = Row::new("ws/calls");
        calls_row.items = Some(0);
        let mut calls: Vec<Call> = Vec::new();
        let progress = Progress::new("ws", Some(2 * n), "jobs", self.args.quiet);
        let t0 = Instant::now();
        // --ws-rate: call k starts at t0 + k * batch / rate (or at once when late).
        let slot = (self.args.ws_rate > 0)
            .then(|| Duration::from_secs_f64(batch as f64 / self.args.ws_rate as f64));
        let mut next_slot = t0;
        let mut pace = move || {
            let wait = next_slot.saturating_duration_since(Instant::now());
            if let Some(slot) = slot {
                next_slot += slot;
            }
            async move {
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
            }
        };
        let mut head = head0;
        let mut created: Vec<i64> = Vec::with_capacity(n as usize);
        let changes: Result<()> = async {
            while (created.len() as u64) < n {
                self.check_deadline()?;
                pace().await;
                let count = batch.min(n - created.len() as u64);
                let first = self.next_index;
                let tag = self.next_batch_tag;
                let body: Vec<Value> = (first..first + count)
                    .map(|i| super::job_body(i, tag, app_id))
                    .collect();
                let reply = api
                    .call(Method::POST, "jobs/", Body::json(&Value::Array(body)), 201)
                    .await
                    .with_context(|| format!("POST /jobs/ with {count} jobs"))?;
                let responded = Instant::now();
                calls_row.record(reply.elapsed);
                calls_row.add_items(count);
                let jobs = reply.json()?;
                let ids = jobs
                    .as_array()
                    .ok_or_else(|| {
                        anyhow!(
                            "POST /jobs/ did not answer a list: {}",
                            excerpt(&reply.body)
                        )
                    })?
                    .iter()
                    .map(id_of)
                    .collect::<Result<Vec<i64>>>()?;
                if ids.len() as u64 != count {
                    bail!("POST /jobs/ with {count} jobs answered {} jobs", ids.len());
                }
                self.next_index += count;
                self.next_batch_tag += 1;
                self.all_ids.extend(&ids);
                self.even_jobs += (first..first + count).filter(|i| i % 2 == 0).count() as u64;
                created.extend(&ids);
                let hi = self.log_head().await?;
                calls.push(Call {
                    create: true,
                    ids,
                    responded,
                    lo: head,
                    hi,
                });
                head = hi;
                progress.update(created.len() as u64, calls.len() as u64);
            }
            let mut patched = 0u64;
            for chunk in created.chunks(batch as usize) {
                self.check_deadline()?;
                pace().await;
                let body: Vec<Value> = chunk
                    .iter()
                    .map(|id| json!({"id": id, "state": "PREPROCESSED", "state_data": {}}))
                    .collect();
                let reply = api
                    .call(Method::PATCH, "jobs/", Body::json(&Value::Array(body)), 200)
                    .await
                    .with_context(|| format!("PATCH /jobs/ with {} patches", chunk.len()))?;
                let responded = Instant::now();
                calls_row.record(reply.elapsed);
                calls_row.add_items(chunk.len() as u64);
                if reply.json()?.as_u64() != Some(chunk.len() as u64) {
                    bail!(
                        "PATCH /jobs/ with {} patches answered {} (expected that integer)",
                        chunk.len(),
                        excerpt(&reply.body)
                    );
                }
                let hi = self.log_head().await?;
                calls.push(Call {
                    create: false,
                    ids: chunk.to_vec(),
                    responded,
                    lo: head,
                    hi,
                });
                head = hi;
                patched += chunk.len() as u64;
                progress.update(n + patched, calls.len() as u64);
            }
            Ok(())
        }
        .await;
        let changes_done = Instant::now();
        calls_row.wall = changes_done - t0;
        progress.finish(2 * n, calls.len() as u64);
        if let Err(e) = changes {
            drop(target_tx);
            for r in readers {
                let _ = r.await;
            }
            return Err(e);
        }

        // Wait for every subscriber to receive the final head.
        let final_head = head;
        let wait_deadline = tokio::time::Instant::now() + Duration::from_secs(self.args.ws_timeout);
        let _ = target_tx.send(Some((final_head, wait_deadline)));
        let mut outcomes = Vec::with_capacity(readers.len());
        for r in readers {
            outcomes.push(
                r.await
                    .map_err(|e| anyhow!("subscriber task panicked: {e}"))?,
            );
        }
        drop(target_tx);

        self.ws_report(
            t0,
            changes_done,
            connect_row,
            calls_row,
            &calls,
            &welcome_seqs,
            final_head,
            outcomes,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn ws_report(
        &mut self,
        t0: Instant,
        changes_done: Instant,
        connect_row: Row,
        mut calls_row: Row,
        calls: &[Call],
        welcome_seqs: &[i64],
        final_head: i64,
        outcomes: Vec<SubscriberOutcome>,
    ) -> Result<Vec<Row>> {
        let mut row = Row::new("ws");
        row.items = Some(0);
        let mut early = 0u64;
        let mut first_latencies: Vec<Duration> = Vec::new();
        let mut per_sub = Vec::new();
        let mut errors = Vec::new();
        let mut last_arrival = changes_done;
        let mut sub_rates: Vec<(f64, f64)> = Vec::new();
        let mut seq_problems = 0u64;
        let mut job_problems = 0u64;
        let empty_calls = calls.iter().filter(|c| c.hi <= c.lo).count();
        if empty_calls > 0 {
            self.problem(format!(
                "{empty_calls} of {} calls moved the log head (X-Balsam-Seq) by nothing",
                calls.len()
            ));
        }

        for (s, o) in outcomes.iter().enumerate() {
            if let Some(e) = &o.error {
                errors.push(format!("subscriber {s}: {e}"));
            }
            // Every seq from the welcome to the final head, once, in order.
            let expected_first = welcome_seqs[s] + 1;
            let seqs: Vec<i64> = o.frames.iter().map(|f| f.seq).collect();
            let want: Vec<i64> = (expected_first..=final_head).collect();
            if seqs != want {
                seq_problems += 1;
                let mut seen: HashMap<i64, u32> = HashMap::new();
                for q in &seqs {
                    *seen.entry(*q).or_default() += 1;
                }
                let dups = seen.values().filter(|c| **c > 1).count();
                let missing = want.iter().filter(|q| !seen.contains_key(q)).count();
                let unordered = seqs.windows(2).filter(|w| w[1] <= w[0]).count();
                let foreign = seen
                    .keys()
                    .filter(|q| **q < expected_first || **q > final_head)
                    .count();
                self.problem(format!(
                    "subscriber {s}: received {} event frames, expected seqs {expected_first}..={final_head} ({}): {missing} missing, {dups} duplicated, {unordered} out of order, {foreign} outside the range",
                    seqs.len(),
                    want.len()
                ));
            }

            // Per call: every job exactly once, and the delivery latency.
            let mut by_seq: HashMap<i64, usize> = HashMap::with_capacity(o.frames.len());
            for (i, f) in o.frames.iter().enumerate() {
                by_seq.entry(f.seq).or_insert(i);
            }
            let mut jobs_received = 0u64;
            for f in &o.frames {
                if f.kind == "job" {
                    jobs_received += f.items;
                }
            }
            for (c_i, c) in calls.iter().enumerate() {
                let frames: Vec<&Received> = ((c.lo + 1)..=c.hi)
                    .filter_map(|q| by_seq.get(&q).map(|i| &o.frames[*i]))
                    .collect();
                if frames.len() as i64 != c.hi - c.lo {
                    // Counted by the seq check above.
                    continue;
                }
                let want_action = if c.create {
                    "bulk-create"
                } else {
                    "bulk-update"
                };
                let mut got: Vec<i64> = frames
                    .iter()
                    .filter(|f| f.kind == "job" && f.action == want_action)
                    .flat_map(|f| f.ids.iter().copied())
                    .collect();
                got.sort_unstable();
                let mut want_ids = c.ids.clone();
                want_ids.sort_unstable();
                if got != want_ids {
                    job_problems += 1;
                    if job_problems <= 3 {
                        self.problem(format!(
                            "subscriber {s}, call {c_i} ({} of {} jobs): its job {want_action} frames carry {} job instances ({} distinct), expected exactly the call's {} jobs",
                            if c.create { "POST" } else { "PATCH" },
                            c.ids.len(),
                            got.len(),
                            { let mut d = got.clone(); d.dedup(); d.len() },
                            want_ids.len()
                        ));
                    }
                }
                let first = frames.iter().map(|f| f.at).min();
                let last = frames.iter().map(|f| f.at).max();
                if let (Some(first), Some(last)) = (first, last) {
                    if last < c.responded {
                        early += 1;
                    }
                    row.record(last.saturating_duration_since(c.responded));
                    first_latencies.push(first.saturating_duration_since(c.responded));
                }
            }
            let sub_last = o.frames.iter().map(|f| f.at).max().unwrap_or(changes_done);
            last_arrival = last_arrival.max(sub_last);
            let secs = (sub_last - t0).as_secs_f64();
            let (eps, jps) = if secs > 0.0 {
                (o.frames.len() as f64 / secs, jobs_received as f64 / secs)
            } else {
                (0.0, 0.0)
            };
            sub_rates.push((eps, jps));
            row.add_items(jobs_received);
            per_sub.push(json!({
                "subscriber": s,
                "welcome_seq": welcome_seqs[s],
                "events": o.frames.len(),
                "job_instances": jobs_received,
                "bytes": o.bytes,
                "heartbeats": o.heartbeats,
                "events_per_s": (eps * 10.0).round() / 10.0,
                "job_instances_per_s": jps.round(),
                "error": o.error,
            }));
        }
        if job_problems > 3 {
            self.problem(format!(
                "({job_problems} subscriber×call job-instance mismatches in all)"
            ));
        }
        let events_total: u64 = outcomes.iter().map(|o| o.frames.len() as u64).sum();
        row.requests = events_total;
        row.wall = last_arrival - t0;
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let eps: Vec<f64> = sub_rates.iter().map(|r| r.0).collect();
        let jps: Vec<f64> = sub_rates.iter().map(|r| r.1).collect();
        let minmax = |v: &[f64]| {
            (
                v.iter().copied().fold(f64::INFINITY, f64::min),
                v.iter().copied().fold(0.0, f64::max),
            )
        };
        let (emin, emax) = minmax(&eps);
        let (jmin, jmax) = minmax(&jps);
        let pct = |v: &mut Vec<Duration>, p: f64| -> f64 {
            if v.is_empty() {
                return 0.0;
            }
            v.sort_unstable();
            let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
            v[rank.clamp(1, v.len()) - 1].as_secs_f64() * 1000.0
        };
        let first_p50 = pct(&mut first_latencies, 50.0);
        let first_p99 = pct(&mut first_latencies, 99.0);
        let n_subs = outcomes.len();
        let creates = calls.iter().filter(|c| c.create).count();
        row.note = format!(
            "{n_subs} subscribers; {creates} POST + {} PATCH /jobs/ calls; requests = event frames received, items = job instances received (all subscribers); latency = call's HTTP response -> its last event frame at a subscriber ({} samples; first frame p50 {first_p50:.1} ms, p99 {first_p99:.1} ms; {early} of them complete before the response was read, counted as 0); per subscriber {:.1} events/s ({emin:.1}..{emax:.1}), {:.0} jobs/s ({jmin:.0}..{jmax:.0}); every seq {}..={final_head} {}",
            calls.len() - creates,
            row.latencies.len(),
            mean(&eps),
            mean(&jps),
            welcome_seqs.first().map_or(0, |w| w + 1),
            if seq_problems == 0 && job_problems == 0 && errors.is_empty() {
                "received once and in order by every subscriber, every job once per call"
            } else {
                "NOT delivered as expected (see the check failures)"
            }
        );
        row.extra = json!({
            "subscribers": per_sub,
            "final_head": final_head,
            "events_per_call": calls.iter().map(|c| c.hi - c.lo).collect::<Vec<_>>(),
            "first_frame_p50_ms": (first_p50 * 1000.0).round() / 1000.0,
            "first_frame_p99_ms": (first_p99 * 1000.0).round() / 1000.0,
            "frames_before_response": early,
        });
        calls_row.note = format!(
            "the changes made while {n_subs} subscribers listened: POST /jobs/ then PATCH /jobs/ (-> PREPROCESSED) x{} per call; wall includes a GET /sites/ per call (log head)",
            self.args.batch
        );
        if let Some(e) = errors.first() {
            row.status = Status::Failed(format!("{e} ({} subscriber(s) failed)", errors.len()));
            for e in &errors {
                self.problem(e.clone());
            }
        }
        Ok(vec![row, connect_row, calls_row])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: i64, at: Instant, kind: &str, action: &str, ids: &[i64]) -> Received {
        Received {
            seq,
            at,
            kind: kind.into(),
            action: action.into(),
            items: ids.len() as u64,
            ids: ids.to_vec(),
        }
    }

    #[test]
    fn the_report_checks_seqs_and_job_ids() {
        use clap::Parser;
        let args = crate::Args::parse_from(["balsam-bench"]);
        let api =
            crate::api::Api::new("http://127.0.0.1:9/api/v1", Duration::from_secs(1), 1).unwrap();
        let mut ctx = Ctx::new(args, api, Instant::now() + Duration::from_secs(60));
        let t0 = Instant::now();
        let later = t0 + Duration::from_millis(30);
        // Two calls: a create of jobs 1,2 (seqs 11, 12) and a patch of them (seq 13).
        let calls = vec![
            Call {
                create: true,
                ids: vec![1, 2],
                responded: t0 + Duration::from_millis(10),
                lo: 10,
                hi: 12,
            },
            Call {
                create: false,
                ids: vec![1, 2],
                responded: t0 + Duration::from_millis(20),
                lo: 12,
                hi: 13,
            },
        ];
        let good = SubscriberOutcome {
            frames: vec![
                frame(11, later, "job", "bulk-create", &[1, 2]),
                frame(12, later, "log_event", "bulk-create", &[100, 101]),
                frame(13, later, "job", "bulk-update", &[1, 2]),
            ],
            ..Default::default()
        };
        let rows = ctx
            .ws_report(
                t0,
                later,
                Row::new("ws/connect"),
                Row::new("ws/calls"),
                &calls,
                &[10],
                13,
                vec![good],
            )
            .unwrap();
        assert!(ctx.problems.is_empty(), "{:?}", ctx.problems);
        assert_eq!(
            rows[0].latencies,
            vec![Duration::from_millis(20), Duration::from_millis(10)]
        );
        assert_eq!((rows[0].requests, rows[0].items), (3, Some(4)));

        let duplicated = SubscriberOutcome {
            frames: vec![
                frame(11, later, "job", "bulk-create", &[1, 2]),
                frame(11, later, "job", "bulk-create", &[1, 2]),
                frame(12, later, "log_event", "bulk-create", &[100, 101]),
                frame(13, later, "job", "bulk-update", &[1, 2]),
            ],
            ..Default::default()
        };
        let missing = SubscriberOutcome {
            frames: vec![
                frame(11, later, "job", "bulk-create", &[1, 2]),
                frame(13, later, "job", "bulk-update", &[1, 2]),
            ],
            ..Default::default()
        };
        let wrong_jobs = SubscriberOutcome {
            frames: vec![
                frame(11, later, "job", "bulk-create", &[1]),
                frame(12, later, "log_event", "bulk-create", &[100, 101]),
                frame(13, later, "job", "bulk-update", &[1, 2, 2]),
            ],
            ..Default::default()
        };
        let rows = ctx
            .ws_report(
                t0,
                later,
                Row::new("ws/connect"),
                Row::new("ws/calls"),
                &calls,
                &[10, 10, 10],
                13,
                vec![duplicated, missing, wrong_jobs],
            )
            .unwrap();
        let all = ctx.problems.join("\n");
        assert!(
            all.contains("subscriber 0") && all.contains("1 duplicated"),
            "{all}"
        );
        assert!(
            all.contains("subscriber 1") && all.contains("1 missing"),
            "{all}"
        );
        assert!(
            all.contains("subscriber 2, call 0") && all.contains("subscriber 2, call 1"),
            "{all}"
        );
        assert!(rows[0].note.contains("NOT delivered"), "{}", rows[0].note);
    }

    #[test]
    fn subscribe_url_follows_the_api_root() {
        assert_eq!(
            subscribe_url("http://127.0.0.1:8000/api/v1/").unwrap(),
            "ws://127.0.0.1:8000/api/v1/subscribe-user"
        );
        assert_eq!(
            subscribe_url("http://127.0.0.1:9").unwrap(),
            "ws://127.0.0.1:9/subscribe-user"
        );
        assert!(subscribe_url("ftp://x").is_err());
    }

    #[test]
    fn frames_are_skimmed_for_ids() {
        let f: WireFrame = serde_json::from_str(
            r#"{"seq":7,"action":"bulk-create","type":"job","data":[{"id":3,"tags":{"id":9}},{"workdir":"x","id":4}]}"#,
        )
        .unwrap();
        assert_eq!(f.seq, Some(7));
        assert_eq!(f.data.ids, vec![3, 4]);
        assert_eq!(f.data.items, 2);
        let f: WireFrame = serde_json::from_str(r#"{"op":"heartbeat","seq":9}"#).unwrap();
        assert_eq!(f.op.as_deref(), Some("heartbeat"));
        assert_eq!(f.data.items, 0);
        let f: WireFrame = serde_json::from_str(
            r#"{"seq":1,"action":"bulk-delete","type":"job","data":{"ids":[1,2]}}"#,
        )
        .unwrap();
        assert_eq!(f.data.items, 1);
        assert!(f.data.ids.is_empty());
    }
}
