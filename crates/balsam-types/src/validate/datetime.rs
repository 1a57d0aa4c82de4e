//! Datetimes as pydantic v1 parses them.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// The message for a datetime outside [`in_datetime_range`].
pub const DATETIME_RANGE_MSG: &str = "datetime must be between years 1 and 9999 (UTC)";

/// Python's `datetime` range (years 1 to 9999), which upstream could never exceed: years
/// outside it do not round-trip through the client, and PostgreSQL refuses some of them.
pub fn in_datetime_range(t: &DateTime<Utc>) -> bool {
    use chrono::Datelike;
    (1..=9999).contains(&t.year())
}

/// Parses pydantic v1's datetime forms: ISO-8601 with `T` or space, optional seconds,
/// fraction and offset, or Unix seconds (milliseconds when above 2e10). No offset means UTC.
/// Instants outside [`in_datetime_range`] are refused.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    parse_datetime_any_year(s).filter(in_datetime_range)
}

pub(crate) fn parse_datetime_any_year(s: &str) -> Option<DateTime<Utc>> {
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

pub(crate) fn unix_to_datetime(secs: f64) -> Option<DateTime<Utc>> {
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
