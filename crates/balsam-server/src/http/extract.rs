//! Request extraction with FastAPI's error shapes: JSON bodies, repeated query keys,
//! integer path ids.
//!
//! Repetition note: every extractor opens with the same `FromRequestParts` prologue; the
//! shape repeats on purpose (axum's trait, one impl per extractor).

use crate::http::error::ApiError;
use crate::state::ServerState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use balsam_types::limits::{MAX_QUERY_VALUES, MAX_TAG_FILTERS};
use balsam_types::page::{Page, MAX_PAGE_SIZE};
use balsam_types::validate::{self as v, parse_bool_str, parse_datetime, Cx};
use balsam_types::{Id, LocPart, ValidationErrors};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// A JSON body, parsed whatever the `Content-Type`, with FastAPI's 422 for empty or
/// malformed bodies. Field validation is the caller's (`*::from_json`).
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            let status = rejection.status();
            ApiError::Detail(status, rejection.body_text())
        })?;
        parse_json_body(&bytes).map(JsonBody)
    }
}

/// The raw body, with a too-large one refused in upstream's `{"detail": …}` shape (as
/// [`JsonBody`] does) instead of axum's plain text.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|rejection| ApiError::Detail(rejection.status(), rejection.body_text()))
    }
}

/// Parses a body, mapping errors to FastAPI's `value_error.missing` / `value_error.jsondecode`,
/// and refuses NUL characters anywhere in it (PostgreSQL cannot store them).
pub fn parse_json_body(bytes: &[u8]) -> Result<Value, ApiError> {
    let value = parse_json(bytes)?;
    // A decoded string can hold NUL only where the text has the escape `\u0000` (JSON
    // refuses raw control characters in strings): the walk runs only then.
    if memchr::memmem::find(bytes, b"\\u0000").is_none() {
        return Ok(value);
    }
    if let Some(at) = v::find_nul(&value) {
        let mut loc: Vec<LocPart> = vec!["body".into()];
        loc.extend(at);
        return Err(ApiError::invalid(loc, v::NUL_MSG, v::NUL_KIND));
    }
    Ok(value)
}

fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid(
            vec!["body".into()],
            "field required",
            "value_error.missing",
        ));
    }
    serde_json::from_slice(bytes).map_err(|err| {
        let text = String::from_utf8_lossy(bytes);
        let pos = char_offset(&text, err.line(), err.column());
        let msg = err.to_string();
        let mut ctx = json!({"msg": msg, "pos": pos, "lineno": err.line(), "colno": err.column()});
        if text.len() <= 1024 {
            ctx["doc"] = Value::String(text.into_owned());
        }
        ApiError::Validation(ValidationErrors(vec![balsam_types::FieldError {
            loc: vec!["body".into(), LocPart::Index(pos)],
            msg,
            kind: "value_error.jsondecode".into(),
            ctx: Some(ctx),
        }]))
    })
}

fn char_offset(text: &str, line: usize, column: usize) -> usize {
    let before: usize = text
        .split('\n')
        .take(line.saturating_sub(1))
        .map(|l| l.chars().count() + 1)
        .sum();
    before + column.saturating_sub(1)
}

/// Parses an integer path parameter (`type_error.integer` at `["path", name]`).
pub fn path_id(raw: &str, name: &str) -> Result<Id, ApiError> {
    raw.parse::<Id>().map_err(|_| {
        ApiError::invalid(
            vec!["path".into(), name.into()],
            "value is not a valid integer",
            "type_error.integer",
        )
    })
}

/// The raw query string as ordered key/value pairs; every accessor records errors at
/// `["query", key(, index)]` and [`Query::finish`] reports them all at once.
pub struct Query {
    pairs: Vec<(String, String)>,
    cx: Cx,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .map(|q| form_urlencoded_pairs(q.as_bytes()))
            .unwrap_or_default();
        let mut cx = Cx::new("query");
        // Checked once for every parameter, read or not: PostgreSQL cannot store NUL.
        for (key, value) in &pairs {
            if key.contains('\0') || value.contains('\0') {
                cx.at(key.replace('\0', "\\0").as_str(), |cx| {
                    cx.error(v::NUL_MSG, v::NUL_KIND);
                });
            }
        }
        Query { pairs, cx }
    }

    /// Every value of `key`, refused past [`MAX_QUERY_VALUES`] (one bound SQL parameter each).
    fn all(&mut self, key: &str) -> Vec<String> {
        self.at_most(key, MAX_QUERY_VALUES)
    }

    fn at_most(&mut self, key: &str, max: usize) -> Vec<String> {
        let values: Vec<String> = self
            .pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect();
        if !self.cx.at(key, |cx| v::max_items(cx, values.len(), max)) {
            return Vec::new();
        }
        values
    }

    /// Every value of a repeatable tag filter (`?tags=k:v`), at most [`MAX_TAG_FILTERS`].
    pub fn tag_filters(&mut self, key: &str) -> Vec<String> {
        self.at_most(key, MAX_TAG_FILTERS)
    }

    fn last(&self, key: &str) -> Option<String> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    /// A single-valued string (the last occurrence wins).
    pub fn string(&mut self, key: &str) -> Option<String> {
        self.last(key)
    }

    /// Every value of a repeatable string parameter.
    pub fn strings(&mut self, key: &str) -> Vec<String> {
        self.all(key)
    }

    /// A repeatable enum parameter, each value checked against `allowed`.
    pub fn enums<T>(
        &mut self,
        key: &str,
        allowed: &[&str],
        parse: impl Fn(&str) -> Option<T>,
    ) -> Vec<T> {
        let values = self.all(key);
        let cx = &mut self.cx;
        cx.at(key, |cx| {
            values
                .iter()
                .enumerate()
                .filter_map(|(i, raw)| {
                    cx.at(i, |cx| {
                        let parsed = parse(raw);
                        if parsed.is_none() {
                            cx.error_ctx(
                                v::enum_message(allowed),
                                "type_error.enum",
                                Some(v::enum_ctx(allowed)),
                            );
                        }
                        parsed
                    })
                })
                .collect()
        })
    }

    /// A single-valued enum parameter.
    pub fn enum_one<T>(
        &mut self,
        key: &str,
        allowed: &[&str],
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let raw = self.last(key)?;
        let parsed = parse(&raw);
        if parsed.is_none() {
            self.cx.at(key, |cx| {
                cx.error_ctx(
                    v::enum_message(allowed),
                    "type_error.enum",
                    Some(v::enum_ctx(allowed)),
                );
            });
        }
        parsed
    }

    /// A single-valued integer.
    pub fn int(&mut self, key: &str) -> Option<i64> {
        let raw = self.last(key)?;
        self.cx.at(key, |cx| v::integer(cx, &Value::String(raw)))
    }

    /// A repeatable integer parameter (`?id=1&id=2`).
    pub fn ints(&mut self, key: &str) -> Vec<i64> {
        let values = self.all(key);
        let cx = &mut self.cx;
        cx.at(key, |cx| {
            values
                .into_iter()
                .enumerate()
                .filter_map(|(i, raw)| cx.at(i, |cx| v::integer(cx, &Value::String(raw))))
                .collect()
        })
    }

    /// A datetime (ISO-8601 with `T` or space, or Unix seconds).
    pub fn datetime(&mut self, key: &str) -> Option<DateTime<Utc>> {
        let raw = self.last(key)?;
        let parsed = parse_datetime(&raw);
        if parsed.is_none() {
            self.cx.at(key, |cx| {
                cx.error("invalid datetime format", "value_error.datetime")
            });
        }
        parsed
    }

    /// A boolean in pydantic's spellings.
    pub fn bool(&mut self, key: &str) -> Option<bool> {
        let raw = self.last(key)?;
        let parsed = parse_bool_str(&raw);
        if parsed.is_none() {
            self.cx.at(key, |cx| {
                cx.error("value could not be parsed to a boolean", "type_error.bool");
            });
        }
        parsed
    }

    /// `limit` (0..=100000, default 100000) and `offset` (≥ 0, default 0).
    pub fn page(&mut self) -> Page {
        let mut page = Page::default();
        if let Some(limit) = self.int("limit") {
            if limit > MAX_PAGE_SIZE {
                self.bound_error("limit", "less than or equal to", MAX_PAGE_SIZE, "not_le");
            } else if limit < 0 {
                self.bound_error("limit", "greater than or equal to", 0, "not_ge");
            } else {
                page.limit = limit;
            }
        }
        if let Some(offset) = self.int("offset") {
            if offset < 0 {
                self.bound_error("offset", "greater than or equal to", 0, "not_ge");
            } else {
                page.offset = offset;
            }
        }
        page
    }

    fn bound_error(&mut self, key: &str, relation: &str, limit: i64, kind: &str) {
        self.cx.at(key, |cx| {
            cx.error_ctx(
                format!("ensure this value is {relation} {limit}"),
                &format!("value_error.number.{kind}"),
                Some(json!({ "limit_value": limit })),
            );
        });
    }

    /// Every recorded error as one 422, or `Ok`.
    pub fn finish(self) -> Result<(), ApiError> {
        Ok(self.cx.finish(Some(()))?)
    }
}

/// The client's address: the TCP peer, or, when the peer is one of `http.trusted_proxies`,
/// the last address in `X-Forwarded-For` that is not itself a trusted proxy.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub std::net::IpAddr);

impl FromRequestParts<ServerState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ServerState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map_or(std::net::Ipv4Addr::UNSPECIFIED.into(), |c| c.0.ip());
        Ok(ClientIp(client_ip(
            peer,
            &parts.headers,
            &state.config.http.trusted_proxies,
        )))
    }
}

/// See [`ClientIp`].
pub fn client_ip(
    peer: std::net::IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[std::net::IpAddr],
) -> std::net::IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(','))
        .filter_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded
        .into_iter()
        .rev()
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
}

/// `application/x-www-form-urlencoded` pairs (`+` is a space), as the client encodes them.
pub fn form_urlencoded_pairs(raw: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(raw).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_collect_and_bad_items_name_their_index() {
        let mut q = Query::parse(Some("id=1&id=x&id=3&name=a&name=b"));
        assert_eq!(q.ints("id"), vec![1, 3]);
        assert_eq!(q.string("name").as_deref(), Some("b"));
        let err = q.finish().unwrap_err();
        let ApiError::Validation(errors) = err else {
            panic!("expected 422")
        };
        assert_eq!(
            serde_json::to_value(&errors.0[0].loc).unwrap(),
            json!(["query", "id", 1])
        );
    }

    #[test]
    fn nul_characters_and_long_lists_in_queries_are_refused() {
        let mut q = Query::parse(Some("name=a%00b"));
        assert_eq!(q.string("name").as_deref(), Some("a\0b"));
        assert!(q.finish().is_err());
        let many: Vec<String> = (0..=MAX_TAG_FILTERS)
            .map(|i| format!("tags=k{i}:v"))
            .collect();
        let mut q = Query::parse(Some(&many.join("&")));
        assert!(q.tag_filters("tags").is_empty());
        assert!(q.finish().is_err());
    }

    #[test]
    fn the_client_address_comes_from_trusted_proxies_only() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("x-forwarded-for", "6.6.6.6, 10.0.0.9".parse().unwrap());
        let proxy: std::net::IpAddr = "127.0.0.1".parse().unwrap();
        let other: std::net::IpAddr = "10.1.1.1".parse().unwrap();
        assert_eq!(client_ip(other, &headers, &[proxy]), other);
        assert_eq!(
            client_ip(proxy, &headers, &[proxy]),
            "10.0.0.9".parse::<std::net::IpAddr>().unwrap()
        );
    }

    #[test]
    fn page_bounds_follow_upstream() {
        let mut q = Query::parse(Some("limit=0&offset=7"));
        assert_eq!(
            q.page(),
            Page {
                limit: 0,
                offset: 7
            }
        );
        assert!(q.finish().is_ok());
        let mut q = Query::parse(Some("limit=100001&offset=-1"));
        q.page();
        let ApiError::Validation(errors) = q.finish().unwrap_err() else {
            panic!()
        };
        let kinds: Vec<_> = errors.0.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["value_error.number.not_le", "value_error.number.not_ge"]
        );
    }

    #[test]
    fn client_datetimes_with_a_space_parse() {
        let mut q = Query::parse(Some("after=2024-01-02+03%3A04%3A05.678901%2B00%3A00"));
        let t = q.datetime("after").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-01-02T03:04:05.678901+00:00");
    }

    #[test]
    fn malformed_json_is_a_jsondecode_error_at_its_position() {
        let ApiError::Validation(errors) = parse_json_body(b"{bad").unwrap_err() else {
            panic!()
        };
        assert_eq!(errors.0[0].kind, "value_error.jsondecode");
        assert_eq!(
            serde_json::to_value(&errors.0[0].loc).unwrap(),
            json!(["body", 1])
        );
        let ApiError::Validation(errors) = parse_json_body(b"").unwrap_err() else {
            panic!()
        };
        assert_eq!(errors.0[0].kind, "value_error.missing");
    }
}
