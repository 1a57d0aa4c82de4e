//! Request validation with pydantic v1's coercion rules and FastAPI's 422 error shape.
//!
//! Upstream parses every body with pydantic v1, and the official client depends on some of its
//! coercions (numbers sent where strings are expected, fractional ints, naive datetimes). Bodies
//! are therefore parsed from `serde_json::Value` by hand here, collecting every error with its
//! `loc`, instead of failing on the first one as serde would.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
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
    errors: Vec<FieldError>,
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

fn non_null<'v>(cx: &mut Cx, v: &'v Value) -> Option<&'v Value> {
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

/// The message for a datetime outside [`in_datetime_range`].
pub const DATETIME_RANGE_MSG: &str = "datetime must be between years 1 and 9999 (UTC)";

/// Python's `datetime` range (years 1 to 9999), which upstream could never exceed: years
/// outside it do not round-trip through the client, and PostgreSQL refuses some of them.
pub fn in_datetime_range(t: &DateTime<Utc>) -> bool {
    use chrono::Datelike;
    (1..=9999).contains(&t.year())
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

/// Python's `str()` of a JSON number: `1` → `"1"`, `2.0` → `"2.0"`, `1e20` → `"1e+20"`.
pub fn python_number_str(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    python_float_repr(n.as_f64().unwrap_or(f64::NAN))
}

/// Python's `repr(float)`: the shortest round-trip digits, scientific outside 1e-4..1e16.
pub fn python_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // `{:e}` gives the shortest round-trip mantissa, e.g. "1.5e20" or "-2.5e-7".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let plain = format!("{f}");
        if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// Normalises like Python's `PurePosixPath`: collapses slashes, drops `.`, keeps `..`.
pub fn normalize_posix_path(raw: &str) -> String {
    let absolute = raw.starts_with('/');
    // POSIX keeps exactly two leading slashes; pathlib does too.
    let double = raw.starts_with("//") && !raw.starts_with("///");
    let parts: Vec<&str> = raw
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let body = parts.join("/");
    match (absolute, double) {
        (true, true) => format!("//{body}"),
        (true, false) => format!("/{body}"),
        (false, _) if body.is_empty() => ".".to_owned(),
        (false, _) => body,
    }
}

/// Parses pydantic v1's datetime forms: ISO-8601 with `T` or space, optional seconds,
/// fraction and offset, or Unix seconds (milliseconds when above 2e10). No offset means UTC.
/// Instants outside [`in_datetime_range`] are refused.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    parse_datetime_any_year(s).filter(in_datetime_range)
}

fn parse_datetime_any_year(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        return unix_to_datetime(secs);
    }
    let bytes = s.as_bytes();
    let mut pos = 0;
    let year = take_digits(bytes, &mut pos, 4, 4)?;
    expect(bytes, &mut pos, b'-')?;
    let month = take_digits(bytes, &mut pos, 1, 2)?;
    expect(bytes, &mut pos, b'-')?;
    let day = take_digits(bytes, &mut pos, 1, 2)?;
    match bytes.get(pos) {
        Some(b'T' | b't' | b' ') => pos += 1,
        _ => return None,
    }
    let hour = take_digits(bytes, &mut pos, 1, 2)?;
    expect(bytes, &mut pos, b':')?;
    let minute = take_digits(bytes, &mut pos, 1, 2)?;
    let mut second = 0;
    let mut micros = 0;
    if bytes.get(pos) == Some(&b':') {
        pos += 1;
        second = take_digits(bytes, &mut pos, 1, 2)?;
        if bytes.get(pos) == Some(&b'.') {
            pos += 1;
            let start = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                pos += 1;
            }
            let digits = &s[start..pos];
            if digits.is_empty() {
                return None;
            }
            let six: String = digits
                .chars()
                .chain(std::iter::repeat('0'))
                .take(6)
                .collect();
            micros = six.parse::<u32>().ok()?;
        }
    }
    let offset_secs: i64 = match bytes.get(pos) {
        None => 0,
        Some(b'Z' | b'z') => {
            pos += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            let negative = *sign == b'-';
            pos += 1;
            let oh = take_digits(bytes, &mut pos, 2, 2)?;
            if bytes.get(pos) == Some(&b':') {
                pos += 1;
            }
            let om = if pos < bytes.len() {
                take_digits(bytes, &mut pos, 2, 2)?
            } else {
                0
            };
            let total = i64::from(oh * 3600 + om * 60);
            if negative {
                -total
            } else {
                total
            }
        }
        Some(_) => return None,
    };
    if pos != bytes.len() {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let time = NaiveTime::from_hms_micro_opt(hour, minute, second, micros)?;
    let naive = NaiveDateTime::new(date, time) - chrono::Duration::seconds(offset_secs);
    Some(Utc.from_utc_datetime(&naive))
}

fn take_digits(bytes: &[u8], pos: &mut usize, min: usize, max: usize) -> Option<u32> {
    let start = *pos;
    while *pos < bytes.len() && *pos - start < max && bytes[*pos].is_ascii_digit() {
        *pos += 1;
    }
    if *pos - start < min {
        return None;
    }
    std::str::from_utf8(&bytes[start..*pos]).ok()?.parse().ok()
}

fn expect(bytes: &[u8], pos: &mut usize, want: u8) -> Option<()> {
    (bytes.get(*pos) == Some(&want)).then(|| *pos += 1)
}

fn unix_to_datetime(secs: f64) -> Option<DateTime<Utc>> {
    if !secs.is_finite() {
        return None;
    }
    // pydantic v1 treats values above 2e10 as milliseconds.
    let secs = if secs.abs() > 2e10 {
        secs / 1000.0
    } else {
        secs
    };
    let micros = (secs * 1e6).round();
    if micros.abs() > 9.0e18 {
        return None;
    }
    DateTime::from_timestamp_micros(micros as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_become_python_strings() {
        let mut cx = Cx::new("body");
        assert_eq!(string(&mut cx, &json!(1)).unwrap(), "1");
        assert_eq!(string(&mut cx, &json!(2.0)).unwrap(), "2.0");
        assert_eq!(string(&mut cx, &json!(true)).unwrap(), "True");
        assert_eq!(string(&mut cx, &json!(1e20)).unwrap(), "1e+20");
        assert_eq!(string(&mut cx, &json!(0.0001)).unwrap(), "0.0001");
        assert_eq!(string(&mut cx, &json!(0.00001)).unwrap(), "1e-05");
        assert_eq!(string(&mut cx, &json!(1.5)).unwrap(), "1.5");
        assert!(!cx.has_errors());
        assert!(string(&mut cx, &json!([1])).is_none());
        assert_eq!(cx.errors[0].kind, "type_error.str");
    }

    #[test]
    fn fractional_ints_are_truncated_and_junk_rejected() {
        let mut cx = Cx::new("body");
        assert_eq!(integer(&mut cx, &json!(12.7)), Some(12));
        assert_eq!(integer(&mut cx, &json!("42")), Some(42));
        assert_eq!(integer(&mut cx, &json!(-3.9)), Some(-3));
        assert!(!cx.has_errors());
        assert_eq!(integer(&mut cx, &json!("4.5")), None);
        assert_eq!(cx.errors[0].msg, "value is not a valid integer");
    }

    #[test]
    fn paths_normalise_like_pathlib() {
        assert_eq!(normalize_posix_path("./x//y/"), "x/y");
        assert_eq!(normalize_posix_path("/a//b/./c/"), "/a/b/c");
        assert_eq!(normalize_posix_path(""), ".");
        assert_eq!(normalize_posix_path("a/../b"), "a/../b");
        assert_eq!(normalize_posix_path("/"), "/");
    }

    #[test]
    fn datetimes_without_offset_are_utc_and_offsets_convert() {
        let a = parse_datetime("2024-01-02 03:04:05.678901").unwrap();
        assert_eq!(a.to_rfc3339(), "2024-01-02T03:04:05.678901+00:00");
        let b = parse_datetime("2024-01-02T05:04:05+02:00").unwrap();
        assert_eq!(b.to_rfc3339(), "2024-01-02T03:04:05+00:00");
        let c = parse_datetime("2024-1-2T3:04").unwrap();
        assert_eq!(c.to_rfc3339(), "2024-01-02T03:04:00+00:00");
        assert!(parse_datetime("yesterday").is_none());
        assert!(parse_datetime("2024-13-01T00:00").is_none());
        assert_eq!(parse_datetime("0").unwrap().timestamp(), 0);
    }

    #[test]
    fn errors_carry_their_location() {
        let body = json!({"a": {"b": [1, "x"]}});
        let mut cx = Cx::new("body");
        let obj = body.as_object().unwrap();
        let out = cx.required(obj, "a", |cx, v| {
            let inner = object(cx, v)?;
            cx.required(inner, "b", |cx, v| list_of(cx, v, integer))
        });
        assert!(out.is_none());
        let err = cx.finish(out).unwrap_err();
        assert_eq!(
            serde_json::to_value(&err.0).unwrap(),
            json!([{"loc": ["body", "a", "b", 1], "msg": "value is not a valid integer", "type": "type_error.integer"}])
        );
    }

    #[test]
    fn non_finite_floats_are_refused() {
        let mut cx = Cx::new("body");
        assert_eq!(float(&mut cx, &json!("1.5")), Some(1.5));
        for bad in ["NaN", "nan", "inf", "-Infinity"] {
            assert_eq!(float(&mut cx, &json!(bad)), None, "{bad}");
        }
        assert_eq!(cx.errors.len(), 4);
        assert_eq!(cx.errors[0].kind, "value_error.number.not_finite");
    }

    #[test]
    fn datetimes_outside_pythons_years_are_refused() {
        assert!(parse_datetime("9999-12-31T23:59:59").is_some());
        assert!(parse_datetime("0000-01-01T00:00:00").is_none());
        assert!(parse_datetime("9999-12-31T23:59:59-01:00").is_none());
        assert!(parse_datetime("-240000000000000").is_none());
        let mut cx = Cx::new("body");
        assert!(datetime(&mut cx, &json!(1e15)).is_none());
        assert_eq!(cx.errors[0].msg, DATETIME_RANGE_MSG);
    }

    #[test]
    fn relative_paths_may_not_climb_out() {
        assert!(escapes_its_folder("a/../../etc/cron.d"));
        assert!(escapes_its_folder(".."));
        assert!(escapes_its_folder("./../x"));
        assert!(!escapes_its_folder("a/../b"));
        assert!(!escapes_its_folder("a/b/../../c"));
        let mut cx = Cx::new("body");
        assert!(relative_path(&mut cx, &json!("a/../../x"), 256).is_none());
        assert_eq!(cx.errors[0].kind, "value_error.path.escapes");
    }

    #[test]
    fn nul_characters_are_found_with_their_location() {
        assert_eq!(find_nul(&json!({"a": ["x", {"b": "y"}]})), None);
        assert_eq!(
            find_nul(&json!({"a": ["x", {"b": "y\0"}]})),
            Some(vec!["a".into(), 1.into(), "b".into()])
        );
        assert_eq!(find_nul(&json!({"k\0": 1})).unwrap().len(), 1);
    }

    #[test]
    fn booleans_accept_pydantic_spellings() {
        assert_eq!(parse_bool_str("True"), Some(true));
        assert_eq!(parse_bool_str("OFF"), Some(false));
        assert_eq!(parse_bool_str("maybe"), None);
    }
}

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

#[cfg(test)]
mod url_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls_need_scheme_and_host() {
        let mut cx = Cx::new("body");
        assert!(any_url(&mut cx, &json!("globus://abc-123")).is_some());
        assert!(any_url(&mut cx, &json!("rsync://user@host:/path")).is_some());
        assert!(!cx.has_errors());
        assert!(any_url(&mut cx, &json!("user@host")).is_none());
        assert_eq!(cx.errors[0].kind, "value_error.url.scheme");
        assert!(any_url(&mut cx, &json!("globus://")).is_none());
        assert_eq!(cx.errors[1].kind, "value_error.url.host");
    }
}
