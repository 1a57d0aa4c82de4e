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
    IsoTime::naive(t).as_str().to_owned()
}

/// Python `isoformat()` of an aware UTC datetime: `2026-11-29T17:02:03.408584+00:00`.
pub fn isoformat_aware(t: &DateTime<Utc>) -> String {
    IsoTime::aware(t).as_str().to_owned()
}

/// `serialize_with` for naive fields.
pub fn naive<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(IsoTime::naive(t).as_str())
}

/// `serialize_with` for nullable naive fields.
pub fn naive_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(IsoTime::naive(t).as_str()),
        None => s.serialize_none(),
    }
}

/// `serialize_with` for aware fields.
pub fn aware<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(IsoTime::aware(t).as_str())
}

/// The `isoformat()` text of a timestamp, written into a stack buffer: a 1 000-job
/// answer or event formats 2 000–3 000 of these, and `format!` (or strftime, which also
/// re-parses its pattern) with a heap string each was ~5 % of a bulk create's CPU.
pub struct IsoTime {
    buf: [u8; 48],
    len: usize,
}

impl IsoTime {
    /// `2026-11-29T17:01:53.101955` (no fraction when the microseconds are zero).
    pub fn naive(t: &DateTime<Utc>) -> Self {
        let mut out = IsoTime {
            buf: [0; 48],
            len: 0,
        };
        let (date, time) = (t.date_naive(), t.time());
        let year = date.year();
        if (0..=9999).contains(&year) {
            out.digits(year as u32, 4);
        } else {
            // Python cannot represent these; chrono can. Kept readable, off the fast path.
            use std::fmt::Write;
            let _ = write!(out, "{year:04}");
        }
        out.push(b'-');
        out.digits(date.month(), 2);
        out.push(b'-');
        out.digits(date.day(), 2);
        out.push(b'T');
        out.digits(time.hour(), 2);
        out.push(b':');
        out.digits(time.minute(), 2);
        out.push(b':');
        out.digits(time.second(), 2);
        match t.timestamp_subsec_micros() {
            0 => {}
            // A leap second's `subsec` is ≥ 1 000 000: Python would not get here either.
            us => {
                out.push(b'.');
                out.digits(us.min(999_999), 6);
            }
        }
        out
    }

    /// The naive form followed by `+00:00`.
    pub fn aware(t: &DateTime<Utc>) -> Self {
        let mut out = IsoTime::naive(t);
        for &b in b"+00:00" {
            out.push(b);
        }
        out
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits and punctuation are ever written.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }

    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    /// `n` zero-padded to `width` digits (`n` < 10^width).
    fn digits(&mut self, mut n: u32, width: usize) {
        let end = (self.len + width).min(self.buf.len());
        let mut i = end;
        while i > self.len {
            i -= 1;
            self.buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        self.len = end;
    }
}

impl std::fmt::Write for IsoTime {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for &b in s.as_bytes() {
            self.push(b);
        }
        Ok(())
    }
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
        let t =
            Utc.with_ymd_and_hms(7, 1, 2, 3, 4, 5).unwrap() + chrono::Duration::microseconds(42);
        assert_eq!(isoformat_aware(&t), "0007-01-02T03:04:05.000042+00:00");
        let far = Utc.with_ymd_and_hms(20_008, 3, 4, 5, 6, 7).unwrap();
        assert_eq!(isoformat_naive(&far), "20008-03-04T05:06:07");
    }

    #[test]
    fn isoformat_matches_the_format_macro_over_many_instants() {
        // The stack writer against the plain `format!` it replaced.
        let mut t = Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 58).unwrap();
        for i in 0..5_000i64 {
            t += chrono::Duration::microseconds(i * 7_919_003 + (i % 3) * 1_000_000);
            let d = (t.date_naive(), t.time());
            let mut want = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                d.0.year(),
                d.0.month(),
                d.0.day(),
                d.1.hour(),
                d.1.minute(),
                d.1.second()
            );
            if t.timestamp_subsec_micros() != 0 {
                want.push_str(&format!(".{:06}", t.timestamp_subsec_micros()));
            }
            assert_eq!(isoformat_naive(&t), want);
        }
    }

    #[test]
    fn now_has_microsecond_precision() {
        assert_eq!(now().timestamp_subsec_nanos() % 1000, 0);
    }
}
