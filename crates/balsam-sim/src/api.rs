//! The REST client: bearer auth, bounded retries with backoff for transport errors and
//! 5xx/429 (never for other 4xx), and per-endpoint request statistics.
//!
//! Repetition note: this file spells out a step another crate's test or client spells out
//! too (starting a server, waiting for a port, a call with its error handling); crates do
//! not share test code.

use crate::console::Console;
use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Why a request failed (after its retries).
#[derive(Debug)]
pub enum ApiError {
    /// The server answered with this status.
    Status { status: u16, body: String },
    /// No answer: connection refused, reset, timed out.
    Transport(String),
    /// A 2xx whose body is not JSON.
    Decode(String),
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Status { status, body } => write!(f, "HTTP {status}: {}", excerpt(body)),
            ApiError::Transport(e) => write!(f, "{e}"),
            ApiError::Decode(e) => write!(f, "undecodable response: {e}"),
        }
    }
}

impl std::error::Error for ApiError {}

/// Requests and errors of one endpoint (labelled by route template, e.g. `PATCH /jobs/`).
#[derive(Debug, Clone, Default)]
pub struct EndpointStats {
    pub requests: u64,
    pub errors: u64,
    pub total_latency: Duration,
    pub max_latency: Duration,
}

#[derive(Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub errors: AtomicU64,
    endpoints: Mutex<BTreeMap<&'static str, EndpointStats>>,
}

impl Stats {
    fn record(&self, label: &'static str, latency: Duration, error: bool) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if error {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        let mut map = crate::util::lock(&self.endpoints);
        let e = map.entry(label).or_default();
        e.requests += 1;
        e.errors += u64::from(error);
        e.total_latency += latency;
        e.max_latency = e.max_latency.max(latency);
    }

    /// Counts an answered request as an error after all (a 4xx the caller did not expect).
    pub fn count_error(&self, label: &'static str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        crate::util::lock(&self.endpoints)
            .entry(label)
            .or_default()
            .errors += 1;
    }

    pub fn snapshot(&self) -> BTreeMap<String, EndpointStats> {
        crate::util::lock(&self.endpoints)
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    root: String,
    auth: Option<HeaderValue>,
    retries: u32,
    pub stats: Arc<Stats>,
    console: Arc<Console>,
}

impl Api {
    pub fn new(root: &str, retries: u32, console: Arc<Console>) -> anyhow::Result<Api> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(6200))
            .timeout(Duration::from_secs(120))
            .tcp_nodelay(true)
            .user_agent(concat!("balsam-sim/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Api {
            http,
            root: root.trim_end_matches('/').to_owned(),
            auth: None,
            retries,
            stats: Arc::new(Stats::default()),
            console,
        })
    }

    pub fn set_token(&mut self, token: &str) -> anyhow::Result<()> {
        let mut value = HeaderValue::from_str(&format!("Bearer {token}"))?;
        value.set_sensitive(true);
        self.auth = Some(value);
        Ok(())
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    /// A request whose failure (after retries) is logged and counted as an error. (Its
    /// signature repeats in `call_quiet` on purpose: the two differ in logging only.)
    pub async fn call(
        &self,
        label: &'static str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        self.send(label, method, path, Body::json(body), false)
            .await
    }

    /// `call` for a GET.
    pub async fn get(&self, label: &'static str, path: &str) -> Result<Value, ApiError> {
        self.call(label, Method::GET, path, None).await
    }

    /// `GET /apps/` of one Site, as the agent does when a service starts (warming its App
    /// cache); the answer is not used, a failure is counted.
    pub async fn warm_app_cache(&self, site_id: i64) {
        let path = format!("apps/?site_id={site_id}&limit=100000&offset=0");
        let _ = self.get("GET /apps/", &path).await;
    }

    /// A bulk `PATCH` of `items` whose answer is not used (a failure is counted).
    pub async fn patch_all(&self, label: &'static str, path: &str, items: Vec<Value>) {
        let body = Value::Array(items);
        let _ = self.call(label, Method::PATCH, path, Some(&body)).await;
    }

    /// The Session heartbeat: `PUT /sessions/{id}` with an empty body (a failure is counted).
    pub async fn tick_session(&self, session_id: i64) {
        let path = format!("sessions/{session_id}");
        let body = serde_json::json!({});
        let _ = self
            .call("PUT /sessions/{id}", Method::PUT, &path, Some(&body))
            .await;
    }

    /// A request whose 4xx answer the caller expects and handles itself: not logged, not
    /// counted as an error. Transport errors and 5xx are still retried, logged and counted.
    pub async fn call_quiet(
        &self,
        label: &'static str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        self.send(label, method, path, Body::json(body), true).await
    }

    /// A form-encoded POST (the login endpoint).
    pub async fn post_form(
        &self,
        label: &'static str,
        path: &str,
        form: &[(&str, &str)],
        quiet: bool,
    ) -> Result<Value, ApiError> {
        let encoded = form
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(label, Method::POST, path, Body::Form(encoded), quiet)
            .await
    }

    async fn send(
        &self,
        label: &'static str,
        method: Method,
        path: &str,
        body: Body<'_>,
        quiet: bool,
    ) -> Result<Value, ApiError> {
        let url = format!("{}/{}", self.root, path.trim_start_matches('/'));
        let mut attempt = 0;
        loop {
            let mut req = self.http.request(method.clone(), &url);
            if let Some(auth) = &self.auth {
                req = req.header(AUTHORIZATION, auth.clone());
            }
            req = match &body {
                Body::None => req,
                Body::Json(v) => req.json(v),
                Body::Form(f) => req
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(f.clone()),
            };
            let started = Instant::now();
            let outcome = match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    match resp.text().await {
                        Ok(text) => Ok((status, text)),
                        Err(e) => Err(transport(&e)),
                    }
                }
                Err(e) => Err(transport(&e)),
            };
            let latency = started.elapsed();
            let err = match outcome {
                Ok((status, text)) if (200..300).contains(&status) => {
                    self.stats.record(label, latency, false);
                    if text.trim().is_empty() {
                        return Ok(Value::Null);
                    }
                    return serde_json::from_str(&text).map_err(|e| {
                        let err = ApiError::Decode(format!("{e}: {}", excerpt(&text)));
                        self.console.warn(&format!("{label}: {err}"));
                        err
                    });
                }
                Ok((status, body)) => ApiError::Status { status, body },
                Err(e) => ApiError::Transport(e),
            };
            let retryable = match &err {
                ApiError::Status { status, .. } => *status >= 500 || *status == 429,
                _ => true,
            };
            let expected = quiet && !retryable;
            self.stats.record(label, latency, !expected);
            if expected {
                return Err(err);
            }
            if retryable && attempt < self.retries {
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
                continue;
            }
            let kind = match &err {
                ApiError::Status { status, .. } => format!("{label} {status}"),
                ApiError::Transport(e) => format!("{label} {}", e.split(':').next().unwrap_or("")),
                ApiError::Decode(_) => format!("{label} decode"),
            };
            let retried = if attempt > 0 {
                format!(" (after {attempt} retries)")
            } else {
                String::new()
            };
            self.console
                .warn_kind(&kind, &format!("{label}: {err}{retried}"));
            return Err(err);
        }
    }
}

enum Body<'a> {
    None,
    Json(&'a Value),
    Form(String),
}

impl<'a> Body<'a> {
    fn json(v: Option<&'a Value>) -> Body<'a> {
        v.map_or(Body::None, Body::Json)
    }
}

fn backoff(attempt: u32) -> Duration {
    let base = 200u64.saturating_mul(1 << attempt.min(5));
    let jitter = rand::random::<u64>() % 200;
    Duration::from_millis(base.min(5000) + jitter)
}

/// "cannot connect: Connection refused (os error 111)", "timed out: …": the kind, then the
/// innermost cause (reqwest's outer messages repeat the URL).
fn transport(e: &reqwest::Error) -> String {
    let kind = if e.is_connect() {
        "cannot connect"
    } else if e.is_timeout() {
        "timed out"
    } else {
        "transport error"
    };
    let mut inner: &dyn std::error::Error = e;
    while let Some(s) = inner.source() {
        inner = s;
    }
    format!("{kind}: {inner}")
}

/// Percent-encodes a query or form component.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A query string from pairs (values are encoded; repeated keys allowed).
pub fn query<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k.as_ref()), enc(v.as_ref())))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn excerpt(body: &str) -> String {
    const MAX: usize = 300;
    let body = body.trim();
    if body.len() <= MAX {
        return body.to_owned();
    }
    let mut end = MAX;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &body[..end], body.len())
}
