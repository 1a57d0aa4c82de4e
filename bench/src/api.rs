//! A thin, timed HTTP client for the Balsam REST API (only the spec'd routes).

use anyhow::{bail, Context, Result};
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Attempts after the first for an idempotent request (GET, DELETE) that failed because
/// the server dropped a kept-alive connection.
const IDEMPOTENT_RETRIES: u32 = 2;

/// One answered request: status, raw body, and the latency from just before sending
/// until the whole body was read (request serialisation and response parsing excluded).
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub elapsed: Duration,
    /// balsam-rs list responses: the user's event-log head (`X-Balsam-Seq`) in the same
    /// snapshot as the rows. `None` where the header is absent (upstream, non-list routes).
    pub seq: Option<i64>,
}

impl Reply {
    pub fn json(&self) -> Result<Value> {
        serde_json::from_str(&self.body)
            .with_context(|| format!("response is not JSON: {}", excerpt(&self.body)))
    }

    /// The body as a JSON array; `request` names the call in the error.
    pub fn json_array(&self, request: &str) -> Result<Vec<Value>> {
        match self.json()? {
            Value::Array(items) => Ok(items),
            _ => Err(anyhow::anyhow!(
                "{request} did not answer a JSON array: {}",
                excerpt(&self.body)
            )),
        }
    }
}

enum SendError {
    /// The request never got an answer: the connection was refused or dropped.
    Connection(anyhow::Error),
    Other(anyhow::Error),
}

impl SendError {
    fn into_inner(self) -> anyhow::Error {
        match self {
            SendError::Connection(e) | SendError::Other(e) => e,
        }
    }
}

pub enum Body {
    None,
    Json(Vec<u8>),
    Form(String),
}

impl Body {
    pub fn json(value: &Value) -> Body {
        // Serialised here, outside the timed section.
        Body::Json(serde_json::to_vec(value).expect("a serde_json::Value always serialises"))
    }
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    root: String,
    auth: Option<HeaderValue>,
    /// Idempotent requests re-sent after a dropped connection (shared by all clones).
    retries: Arc<AtomicU64>,
}

impl Api {
    pub fn new(root: &str, timeout: Duration, pool_size: usize) -> Result<Api> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(6))
            .timeout(timeout)
            .pool_max_idle_per_host(pool_size)
            .tcp_nodelay(true)
            .user_agent(concat!("balsam-bench/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the HTTP client")?;
        Ok(Api {
            http,
            root: root.trim_end_matches('/').to_string(),
            auth: None,
            retries: Arc::new(AtomicU64::new(0)),
        })
    }

    pub fn with_token(&self, token: &str) -> Result<Api> {
        let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
            .context("the access token is not a valid header value")?;
        value.set_sensitive(true);
        Ok(Api {
            http: self.http.clone(),
            root: self.root.clone(),
            auth: Some(value),
            retries: self.retries.clone(),
        })
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}/{}", self.root, path_and_query.trim_start_matches('/'))
    }

    /// How many idempotent requests were re-sent after a dropped connection.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Sends one request and returns whatever status came back. A GET or DELETE whose
    /// kept-alive connection turns out to be dead (the server closed it, e.g. after a
    /// response it could not complete) is re-sent on another connection, at most
    /// [`IDEMPOTENT_RETRIES`] times, and counted; the latency is that of the last attempt.
    pub async fn send(&self, method: Method, path_and_query: &str, body: Body) -> Result<Reply> {
        let idempotent =
            matches!(body, Body::None) && matches!(method, Method::GET | Method::DELETE);
        if !idempotent {
            return self
                .send_once(method, path_and_query, body)
                .await
                .map_err(SendError::into_inner);
        }
        let mut attempt = 0;
        loop {
            match self
                .send_once(method.clone(), path_and_query, Body::None)
                .await
            {
                Err(SendError::Connection(_)) if attempt < IDEMPOTENT_RETRIES => {
                    attempt += 1;
                    self.retries.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => return Err(e.into_inner()),
                Ok(reply) => return Ok(reply),
            }
        }
    }

    async fn send_once(
        &self,
        method: Method,
        path_and_query: &str,
        body: Body,
    ) -> std::result::Result<Reply, SendError> {
        let url = self.url(path_and_query);
        let mut req = self.http.request(method.clone(), &url);
        if let Some(auth) = &self.auth {
            req = req.header(AUTHORIZATION, auth.clone());
        }
        req = match body {
            Body::None => req,
            Body::Json(bytes) => req.header(CONTENT_TYPE, "application/json").body(bytes),
            Body::Form(form) => req
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form),
        };
        let start = Instant::now();
        let resp = match req.send().await {
            Ok(resp) => resp,
            Err(e) => {
                let dropped = !e.is_timeout() && (e.is_request() || e.is_connect());
                let e = anyhow::Error::new(e).context(format!("{method} {}", short(&url)));
                return Err(if dropped {
                    SendError::Connection(e)
                } else {
                    SendError::Other(e)
                });
            }
        };
        let status = resp.status().as_u16();
        let seq = resp
            .headers()
            .get("x-balsam-seq")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let body = resp
            .text()
            .await
            .with_context(|| format!("{method} {}: reading the response body", short(&url)))
            .map_err(SendError::Other)?;
        Ok(Reply {
            status,
            body,
            elapsed: start.elapsed(),
            seq,
        })
    }

    /// Sends one request and fails unless the status is `expect`.
    pub async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Body,
        expect: u16,
    ) -> Result<Reply> {
        let reply = self.send(method.clone(), path_and_query, body).await?;
        if reply.status != expect {
            bail!(
                "{method} {} answered HTTP {} (expected {expect}): {}",
                short(&self.url(path_and_query)),
                reply.status,
                excerpt(&reply.body)
            );
        }
        Ok(reply)
    }
}

/// Form-encodes `key=value` pairs (application/x-www-form-urlencoded).
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
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

pub fn excerpt(body: &str) -> String {
    const MAX: usize = 600;
    if body.len() <= MAX {
        return body.to_string();
    }
    let mut end = MAX;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &body[..end], body.len())
}

fn short(url: &str) -> String {
    const MAX: usize = 200;
    if url.len() <= MAX {
        url.to_string()
    } else {
        format!("{}…", &url[..MAX])
    }
}
