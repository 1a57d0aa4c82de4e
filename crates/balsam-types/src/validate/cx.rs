//! Where validation errors are collected: the location being parsed ([`Cx`]) and the
//! error list FastAPI's 422 returns.
//!
//! Repetition note: every body is validated with the same steps on purpose (`Cx` fields,
//! required or optional, coerced as pydantic v1 does); what repeats is that pattern with
//! this type's fields.

use serde::Serialize;
use serde_json::{Map, Value};

/// One element of an error location: an object key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum LocPart {
    Key(String),
    Index(usize),
}

impl From<&str> for LocPart {
    fn from(key: &str) -> Self {
        LocPart::Key(key.to_owned())
    }
}

impl From<usize> for LocPart {
    fn from(index: usize) -> Self {
        LocPart::Index(index)
    }
}

/// One entry of FastAPI's `{"detail": [...]}` validation error list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    pub loc: Vec<LocPart>,
    pub msg: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctx: Option<Value>,
}

/// A non-empty list of validation errors; rendered by the HTTP layer as a 422.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("request validation failed: {0:?}")]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// A single error at `loc`.
    pub fn single(loc: Vec<LocPart>, msg: impl Into<String>, kind: impl Into<String>) -> Self {
        ValidationErrors(vec![FieldError {
            loc,
            msg: msg.into(),
            kind: kind.into(),
            ctx: None,
        }])
    }
}

/// The error collector: tracks the current location while a value is walked.
pub struct Cx {
    loc: Vec<LocPart>,
    pub(crate) errors: Vec<FieldError>,
}

impl Cx {
    /// Starts at a root such as `"body"`, `"query"` or `"path"`.
    pub fn new(root: &str) -> Self {
        Cx {
            loc: vec![LocPart::from(root)],
            errors: Vec::new(),
        }
    }

    /// Runs `f` with `part` appended to the location.
    pub fn at<R>(&mut self, part: impl Into<LocPart>, f: impl FnOnce(&mut Cx) -> R) -> R {
        self.loc.push(part.into());
        let result = f(self);
        self.loc.pop();
        result
    }

    /// Records an error at the current location.
    pub fn error(&mut self, msg: impl Into<String>, kind: &str) {
        self.error_ctx(msg, kind, None);
    }

    /// Records an error with FastAPI's `ctx` object.
    pub fn error_ctx(&mut self, msg: impl Into<String>, kind: &str, ctx: Option<Value>) {
        self.errors.push(FieldError {
            loc: self.loc.clone(),
            msg: msg.into(),
            kind: kind.to_owned(),
            ctx,
        });
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// `Ok(value)` when nothing was recorded, else every recorded error.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, ValidationErrors> {
        match value {
            Some(v) if self.errors.is_empty() => Ok(v),
            _ if !self.errors.is_empty() => Err(ValidationErrors(self.errors)),
            // A coercer returned None without recording why: a programming error, but never a panic.
            _ => Err(ValidationErrors::single(
                self.loc,
                "invalid value",
                "value_error",
            )),
        }
    }

    // ---- field access -------------------------------------------------------------------

    /// A required field: a missing key is `value_error.missing`.
    pub fn required<T>(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        f: impl FnOnce(&mut Cx, &Value) -> Option<T>,
    ) -> Option<T> {
        self.at(key, |cx| match obj.get(key) {
            None => {
                cx.error("field required", "value_error.missing");
                None
            }
            Some(v) => non_null(cx, v).and_then(|v| f(cx, v)),
        })
    }

    /// An optional, non-nullable field with a default.
    pub fn optional<T>(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        default: T,
        f: impl FnOnce(&mut Cx, &Value) -> Option<T>,
    ) -> Option<T> {
        match obj.get(key) {
            None => Some(default),
            Some(v) => self.at(key, |cx| non_null(cx, v).and_then(|v| f(cx, v))),
        }
    }

    /// An optional, nullable field (null and absent both give `None`).
    pub fn nullable<T>(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        f: impl FnOnce(&mut Cx, &Value) -> Option<T>,
    ) -> Option<Option<T>> {
        match obj.get(key) {
            None | Some(Value::Null) => Some(None),
            Some(v) => self.at(key, |cx| f(cx, v).map(Some)),
        }
    }

    /// A field of a partial update: `None` when absent, so it is left untouched.
    /// Null is rejected (`type_error.none.not_allowed`).
    pub fn patch<T>(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        f: impl FnOnce(&mut Cx, &Value) -> Option<T>,
    ) -> Option<T> {
        let v = obj.get(key)?;
        self.at(key, |cx| non_null(cx, v).and_then(|v| f(cx, v)))
    }

    /// A nullable field of a partial update: `None` when absent, `Some(None)` for null.
    pub fn patch_nullable<T>(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        f: impl FnOnce(&mut Cx, &Value) -> Option<T>,
    ) -> Option<Option<T>> {
        match obj.get(key)? {
            Value::Null => Some(None),
            v => self.at(key, |cx| f(cx, v)).map(Some),
        }
    }
}

pub(crate) fn non_null<'v>(cx: &mut Cx, v: &'v Value) -> Option<&'v Value> {
    if v.is_null() {
        cx.error(
            "none is not an allowed value",
            "type_error.none.not_allowed",
        );
        None
    } else {
        Some(v)
    }
}
