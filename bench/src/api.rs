//! A thin, timed HTTP client for the Balsam REST API (only the spec'd routes).

use anyhow::{bail, Context, Result};
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use serde_json::Value;
use std::time::{Duration, Instant};

/// One answered request: status, raw body, and the latency from just before sending
/// until the whole body was read (request serialisation and response parsing excluded).
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub elapsed: Duration,
}

impl Reply {
    pub fn json(&self) -> Result<Value> {
        serde_json::from_str(&self.body)
            .with_context(|| format!("response is not JSON: {}", excerpt(&self.body)))
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
        })
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}/{}", self.root, path_and_query.trim_start_matches('/'))
    }

    /// Sends one request and returns whatever status came back.
    pub async fn send(&self, method: Method, path_and_query: &str, body: Body) -> Result<Reply> {
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
        let resp = req
            .send()
            .await
            .with_context(|| format!("{method} {}", short(&url)))?;
        let status = resp.status().as_u16();
        let body = resp
            .text()
            .await
            .with_context(|| format!("{method} {}: reading the response body", short(&url)))?;
        Ok(Reply {
            status,
            body,
            elapsed: start.elapsed(),
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
