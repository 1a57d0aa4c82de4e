//! Timestamps: microsecond precision, UTC, and the two wire forms upstream's client expects.
//!
//! Python's `isoformat()` prints `.ffffff` only when the microseconds are non-zero and an
//! offset only for aware values; the client compares some fields with naive `utcnow()` and
//! others with aware `now(timezone.utc)`, so each field picks its form (spec §1.3.1).

use chrono::{DateTime, Datelike, SubsecRound, Timelike, Utc};
use serde::Serializer;

/// The current time, truncated to microseconds so that what a mutation returns equals
/// what a later read of the stored value returns.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Python `isoformat()` of a naive UTC datetime: `2026-11-29T17:01:53.101955`.
pub fn isoformat_naive(t: &DateTime<Utc>) -> String {
    // Fields, not `format("%Y-…")`: strftime re-parses its pattern on every call, and a
    // 1 000-job response or event formats 1 000 of these.
    let (date, time) = (t.date_naive(), t.time());
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        date.year(),
        date.month(),
        date.day(),
        time.hour(),
        time.minute(),
        time.second()
    );
    match t.timestamp_subsec_micros() {
        0 => {}
        us => {
            use std::fmt::Write;
            let _ = write!(out, ".{us:06}");
        }
    }
    out
}

/// Python `isoformat()` of an aware UTC datetime: `2026-11-29T17:02:03.408584+00:00`.
pub fn isoformat_aware(t: &DateTime<Utc>) -> String {
    format!("{}+00:00", isoformat_naive(t))
}

/// `serialize_with` for naive fields.
pub fn naive<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&isoformat_naive(t))
}

/// `serialize_with` for nullable naive fields.
pub fn naive_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&isoformat_naive(t)),
        None => s.serialize_none(),
    }
}

/// `serialize_with` for aware fields.
pub fn aware<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&isoformat_aware(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn isoformat_omits_zero_microseconds_like_python() {
        let t = Utc.with_ymd_and_hms(2026, 11, 29, 17, 1, 53).unwrap();
        assert_eq!(isoformat_naive(&t), "2026-11-29T17:01:53");
        let t = t + chrono::Duration::microseconds(101_955);
        assert_eq!(isoformat_naive(&t), "2026-11-29T17:01:53.101955");
        assert_eq!(isoformat_aware(&t), "2026-11-29T17:01:53.101955+00:00");
    }

    #[test]
    fn now_has_microsecond_precision() {
        assert_eq!(now().timestamp_subsec_nanos() % 1000, 0);
    }
}
