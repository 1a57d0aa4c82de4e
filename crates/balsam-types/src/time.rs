//! Timestamps: microsecond precision, UTC, and the two wire forms upstream's client expects.
//!
//! Python's `isoformat()` prints `.ffffff` only when the microseconds are non-zero and an
//! offset only for aware values; the client compares some fields with naive `utcnow()` and
//! others with aware `now(timezone.utc)`, so each field picks its form (spec §1.3.1).

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serializer;

/// The current time, truncated to microseconds so that what a mutation returns equals
/// what a later read of the stored value returns.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Python `isoformat()` of a naive UTC datetime: `2026-11-29T17:01:53.101955`.
pub fn isoformat_naive(t: &DateTime<Utc>) -> String {
    let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    match t.timestamp_subsec_micros() {
        0 => base,
        us => format!("{base}.{us:06}"),
    }
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
