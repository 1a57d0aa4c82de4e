//! Request extraction with FastAPI's error shapes: JSON bodies, repeated query keys,
//! integer path ids.

use crate::http::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
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

/// Parses a body, mapping errors to FastAPI's `value_error.missing` / `value_error.jsondecode`.
pub fn parse_json_body(bytes: &[u8]) -> Result<Value, ApiError> {
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
        Query {
            pairs,
            cx: Cx::new("query"),
        }
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
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
