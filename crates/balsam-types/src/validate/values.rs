//! Coercions of one JSON value, with pydantic v1's rules and error kinds.
//!
//! Repetition note: every body is validated with the same steps on purpose (`Cx` fields,
//! required or optional, coerced as pydantic v1 does); what repeats is that pattern with
//! this type's fields.

use super::cx::{non_null, Cx, LocPart};
use super::datetime::{
    in_datetime_range, parse_datetime_any_year, unix_to_datetime, DATETIME_RANGE_MSG,
};
use super::python::{normalize_posix_path, python_number_str};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

// ---- coercers: pydantic v1 semantics ---------------------------------------------------------

/// A JSON object (`type_error.dict` otherwise).
pub fn object<'v>(cx: &mut Cx, v: &'v Value) -> Option<&'v Map<String, Value>> {
    match v {
        Value::Object(map) => Some(map),
        _ => {
            cx.error("value is not a valid dict", "type_error.dict");
            None
        }
    }
}

/// A JSON array (`type_error.list` otherwise).
pub fn array<'v>(cx: &mut Cx, v: &'v Value) -> Option<&'v Vec<Value>> {
    match v {
        Value::Array(items) => Some(items),
        _ => {
            cx.error("value is not a valid list", "type_error.list");
            None
        }
    }
}

/// A string; numbers and booleans become their Python `str()` form.
pub fn string(cx: &mut Cx, v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_owned()),
        Value::Number(n) => Some(python_number_str(n)),
        _ => {
            cx.error("str type expected", "type_error.str");
            None
        }
    }
}

/// A string of at most `max` characters (`value_error.any_str.max_length`).
pub fn string_max(cx: &mut Cx, v: &Value, max: usize) -> Option<String> {
    let s = string(cx, v)?;
    if s.chars().count() > max {
        cx.error_ctx(
            format!("ensure this value has at most {max} characters"),
            "value_error.any_str.max_length",
            Some(serde_json::json!({ "limit_value": max })),
        );
        return None;
    }
    Some(s)
}

/// An integer: integral JSON numbers, truncated floats, booleans, numeric strings.
pub fn integer(cx: &mut Cx, v: &Value) -> Option<i64> {
    let parsed = match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9.2e18)
                .map(|f| f.trunc() as i64)
        }),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    if parsed.is_none() {
        cx.error("value is not a valid integer", "type_error.integer");
    }
    parsed
}

/// An integer that must fit the 32-bit columns upstream uses.
pub fn integer32(cx: &mut Cx, v: &Value) -> Option<i64> {
    let n = integer(cx, v)?;
    if i32::try_from(n).is_err() {
        let limit = if n > 0 {
            i64::from(i32::MAX)
        } else {
            i64::from(i32::MIN)
        };
        let (msg, kind) = if n > 0 {
            ("less than or equal to", "value_error.number.not_le")
        } else {
            ("greater than or equal to", "value_error.number.not_ge")
        };
        cx.error_ctx(
            format!("ensure this value is {msg} {limit}"),
            kind,
            Some(serde_json::json!({ "limit_value": limit })),
        );
        return None;
    }
    Some(n)
}

/// A float: numbers, booleans and numeric strings.
pub fn float(cx: &mut Cx, v: &Value) -> Option<f64> {
    let parsed = match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match parsed {
        None => {
            cx.error("value is not a valid float", "type_error.float");
            None
        }
        // NaN and the infinities ("nan", "inf", "-Infinity" parse as f64) fit no column.
        Some(f) if !f.is_finite() => {
            cx.error(
                "ensure this value is a finite number",
                "value_error.number.not_finite",
            );
            None
        }
        Some(f) => Some(f),
    }
}

/// A boolean: JSON booleans, 0/1, and pydantic's string spellings.
pub fn boolean(cx: &mut Cx, v: &Value) -> Option<bool> {
    let parsed = match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) if n.as_i64() == Some(0) => Some(false),
        Value::Number(n) if n.as_i64() == Some(1) => Some(true),
        Value::String(s) => parse_bool_str(s),
        _ => None,
    };
    if parsed.is_none() {
        cx.error("value could not be parsed to a boolean", "type_error.bool");
    }
    parsed
}

/// pydantic's accepted boolean spellings, case-insensitive.
pub fn parse_bool_str(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "on" | "t" | "true" | "y" | "yes" => Some(true),
        "0" | "off" | "f" | "false" | "n" | "no" => Some(false),
        _ => None,
    }
}

/// A datetime, returned in UTC (see [`parse_datetime`]), within [`in_datetime_range`].
pub fn datetime(cx: &mut Cx, v: &Value) -> Option<DateTime<Utc>> {
    let parsed = match v {
        Value::String(s) => parse_datetime_any_year(s),
        Value::Number(n) => n.as_f64().and_then(unix_to_datetime),
        _ => None,
    };
    match parsed {
        None => {
            cx.error("invalid datetime format", "value_error.datetime");
            None
        }
        Some(t) if !in_datetime_range(&t) => {
            cx.error(DATETIME_RANGE_MSG, "value_error.datetime");
            None
        }
        Some(t) => Some(t),
    }
}

/// A UUID in any case.
pub fn uuid(cx: &mut Cx, v: &Value) -> Option<uuid::Uuid> {
    let parsed = v
        .as_str()
        .and_then(|s| uuid::Uuid::parse_str(s.trim()).ok());
    if parsed.is_none() {
        cx.error("value is not a valid uuid", "type_error.uuid");
    }
    parsed
}

/// An object whose values are coerced to strings (tags, params).
pub fn string_map(cx: &mut Cx, v: &Value) -> Option<Map<String, Value>> {
    map_of(cx, v, |cx, item| string(cx, item).map(Value::String))
}

/// An object whose values each pass `f`; errors carry the key in `loc`.
pub fn map_of<T>(
    cx: &mut Cx,
    v: &Value,
    mut f: impl FnMut(&mut Cx, &Value) -> Option<T>,
) -> Option<Map<String, Value>>
where
    T: Into<Value>,
{
    let obj = object(cx, v)?;
    let mut out = Map::new();
    let mut ok = true;
    for (key, item) in obj {
        let converted = cx.at(key.as_str(), |cx| non_null(cx, item).and_then(|i| f(cx, i)));
        match converted {
            Some(c) => {
                out.insert(key.clone(), c.into());
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// A list whose items each pass `f`; errors carry the index in `loc`.
pub fn list_of<T>(
    cx: &mut Cx,
    v: &Value,
    mut f: impl FnMut(&mut Cx, &Value) -> Option<T>,
) -> Option<Vec<T>> {
    let items = array(cx, v)?;
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        match cx.at(i, |cx| non_null(cx, item).and_then(|i| f(cx, i))) {
            Some(c) => out.push(c),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// An absolute POSIX path, normalised ("path must be absolute" otherwise).
pub fn absolute_path(cx: &mut Cx, v: &Value, max: usize) -> Option<String> {
    let raw = string(cx, v)?;
    if !raw.starts_with('/') {
        cx.error("path must be absolute", "value_error");
        return None;
    }
    checked_len(cx, normalize_posix_path(&raw), max)
}

/// A relative POSIX path, normalised ("Cannot use absolute path" otherwise), that stays
/// inside the folder it is joined to: the Site agent joins job workdirs and App transfer
/// slots under its data directory, so `a/../../etc` is refused (`a/../b` is kept).
pub fn relative_path(cx: &mut Cx, v: &Value, max: usize) -> Option<String> {
    let raw = string(cx, v)?;
    if raw.starts_with('/') {
        cx.error("Cannot use absolute path", "value_error");
        return None;
    }
    if escapes_its_folder(&raw) {
        cx.error(
            "path must not leave its folder: a `..` goes above the start",
            "value_error.path.escapes",
        );
        return None;
    }
    checked_len(cx, normalize_posix_path(&raw), max)
}

/// Whether a relative path's `..` segments climb above its starting folder.
pub fn escapes_its_folder(relative: &str) -> bool {
    let mut depth = 0usize;
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return true,
            },
            _ => depth += 1,
        }
    }
    false
}

/// The location (under the root) of the first string, or object key, holding a NUL
/// character, which PostgreSQL cannot store in text or JSON columns.
pub fn find_nul(v: &Value) -> Option<Vec<LocPart>> {
    match v {
        Value::String(s) => s.contains('\0').then(Vec::new),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let mut loc = find_nul(item)?;
            loc.insert(0, LocPart::Index(i));
            Some(loc)
        }),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                return Some(vec![LocPart::Key(key.replace('\0', "\\0"))]);
            }
            let mut loc = find_nul(item)?;
            loc.insert(0, LocPart::Key(key.clone()));
            Some(loc)
        }),
        _ => None,
    }
}

/// `f`, after refusing a value larger than `max` bytes as compact JSON.
pub fn sized<T>(
    max: usize,
    f: impl FnOnce(&mut Cx, &Value) -> Option<T>,
) -> impl FnOnce(&mut Cx, &Value) -> Option<T> {
    move |cx, x| {
        if !json_max_bytes(cx, x, max) {
            return None;
        }
        f(cx, x)
    }
}

/// Refuses a list or object with more than `max` items (`value_error.list.max_items`).
pub fn max_items(cx: &mut Cx, len: usize, max: usize) -> bool {
    if len > max {
        cx.error_ctx(
            format!("ensure this value has at most {max} items"),
            "value_error.list.max_items",
            Some(serde_json::json!({ "limit_value": max })),
        );
        return false;
    }
    true
}

/// The message and type of a NUL-character error.
pub const NUL_MSG: &str = "strings must not contain NUL (\\0) characters";
pub const NUL_KIND: &str = "value_error.str.nul";

/// The size of a free-form JSON value as stored (its compact serialisation), in bytes,
/// refused above `max` (`value_error.any_str.max_length` with the limit in `ctx`).
pub fn json_max_bytes(cx: &mut Cx, v: &Value, max: usize) -> bool {
    let size = serde_json::to_vec(v).map_or(usize::MAX, |b| b.len());
    if size > max {
        cx.error_ctx(
            format!("ensure this value is at most {max} bytes as JSON"),
            "value_error.any_str.max_length",
            Some(serde_json::json!({ "limit_value": max })),
        );
        return false;
    }
    true
}

fn checked_len(cx: &mut Cx, s: String, max: usize) -> Option<String> {
    string_max(cx, &Value::String(s), max)
}

// ---- helpers shared with query parsing ------------------------------------------------------

/// One of a fixed set of strings (`type_error.enum` with pydantic's message otherwise).
pub fn enum_str(cx: &mut Cx, v: &Value, allowed: &[&str]) -> Option<String> {
    if let Some(s) = v.as_str() {
        if allowed.contains(&s) {
            return Some(s.to_owned());
        }
    }
    cx.error_ctx(
        enum_message(allowed),
        "type_error.enum",
        Some(enum_ctx(allowed)),
    );
    None
}

/// pydantic's `type_error.enum` message.
pub fn enum_message(allowed: &[&str]) -> String {
    let permitted: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
    format!(
        "value is not a valid enumeration member; permitted: {}",
        permitted.join(", ")
    )
}

/// pydantic's `type_error.enum` context object.
pub fn enum_ctx(allowed: &[&str]) -> Value {
    serde_json::json!({ "enum_values": allowed })
}

/// A URL with a scheme and a host (pydantic `AnyUrl`).
pub fn any_url(cx: &mut Cx, v: &Value) -> Option<String> {
    let s = string(cx, v)?;
    let Some((scheme, rest)) = s.split_once("://") else {
        cx.error("invalid or missing URL scheme", "value_error.url.scheme");
        return None;
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        cx.error("invalid or missing URL scheme", "value_error.url.scheme");
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        cx.error("URL host invalid", "value_error.url.host");
        return None;
    }
    if s.len() > 2083 {
        cx.error_ctx(
            "ensure this value has at most 2083 characters",
            "value_error.any_str.max_length",
            Some(serde_json::json!({ "limit_value": 2083 })),
        );
        return None;
    }
    Some(s)
}

/// A body that is a list of patches, each an object with an `id` and the patch's fields
/// (`patch` parses them); a duplicated id keeps its last patch, in the position of that
/// patch.
pub fn id_patches<T>(
    body: &Value,
    patch: impl Fn(&mut Cx, &Map<String, Value>) -> T,
) -> Result<Vec<(crate::Id, T)>, super::cx::ValidationErrors> {
    let mut cx = Cx::new("body");
    let patches = list_of(&mut cx, body, |cx, item| {
        let obj = object(cx, item)?;
        let id = cx.required(obj, "id", integer);
        let patch = patch(cx, obj);
        Some((id?, patch))
    });
    let mut patches = cx.finish(patches)?;
    let mut seen = std::collections::HashSet::new();
    patches.reverse();
    patches.retain(|(id, _)| seen.insert(*id));
    patches.reverse();
    Ok(patches)
}
