//! Chart aggregates of the LogEvent history (`GET /aggregates/…`): fixed windows cut into
//! a fixed number of buckets, so an answer's size never depends on how many events or jobs
//! there are.
//!
//! Repetition note: every body is validated with the same steps on purpose (`Cx` fields,
//! required or optional, coerced as pydantic v1 does); what repeats is that pattern with
//! this type's fields.

use crate::{time, Id};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// The windows the dashboard offers: the last hour by minute, the last 24 hours by
/// 15 minutes, the last week by hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AggregateWindow {
    Hour,
    Day,
    Week,
}

impl AggregateWindow {
    pub const NAMES: &'static [&'static str] = &["hour", "day", "week"];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "hour" => Some(Self::Hour),
            "day" => Some(Self::Day),
            "week" => Some(Self::Week),
            _ => None,
        }
    }

    /// Seconds per bucket.
    pub fn bucket_seconds(self) -> i64 {
        match self {
            Self::Hour => 60,
            Self::Day => 15 * 60,
            Self::Week => 3600,
        }
    }

    /// Buckets in the window.
    pub fn buckets(self) -> usize {
        match self {
            Self::Hour => 60,
            Self::Day => 96,
            Self::Week => 168,
        }
    }

    /// The buckets that end with the one holding `now`: whole buckets aligned to the
    /// bucket size since the epoch (minutes, quarter hours, hours), the last one current.
    pub fn span(self, now: DateTime<Utc>) -> Span {
        let bucket = TimeDelta::seconds(self.bucket_seconds());
        let current = now.duration_trunc(bucket).unwrap_or(now);
        let n = self.buckets() as i32;
        Span {
            start: current - bucket * (n - 1),
            end: current + bucket,
            as_of: now,
            bucket_seconds: self.bucket_seconds(),
            buckets: self.buckets(),
        }
    }
}

/// Where an aggregate's buckets lie: bucket `i` covers
/// `[start + i·bucket_seconds, start + (i+1)·bucket_seconds)`; the last one holds `as_of`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Span {
    /// The first bucket's start (naive UTC).
    #[serde(serialize_with = "time::naive")]
    #[schema(value_type = String)]
    pub start: DateTime<Utc>,
    /// The last bucket's end (naive UTC): later than `as_of`.
    #[serde(serialize_with = "time::naive")]
    #[schema(value_type = String)]
    pub end: DateTime<Utc>,
    /// The server's clock when the aggregate was read (naive UTC).
    #[serde(serialize_with = "time::naive")]
    #[schema(value_type = String)]
    pub as_of: DateTime<Utc>,
    pub bucket_seconds: i64,
    pub buckets: usize,
}

/// Jobs finished per bucket at one Site.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SiteThroughput {
    pub site_id: Id,
    /// One count per bucket.
    pub counts: Vec<i64>,
}

/// `GET /aggregates/throughput`: LogEvents into `JOB_FINISHED` per bucket and Site.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Throughput {
    pub window: AggregateWindow,
    #[serde(flatten)]
    pub span: Span,
    /// Sites with at least one finish in the window, by id.
    pub sites: Vec<SiteThroughput>,
    /// Finishes in the window, all Sites.
    pub total: i64,
    /// The caller's event-log sequence number the aggregate reflects (read in the same
    /// snapshot): a client advances it with the stream's events after this one.
    pub seq: i64,
}

/// `GET /aggregates/utilization`: nodes busy running jobs per bucket, as upstream's
/// `utilization_report` counts them (a job occupies `num_nodes / node_packing_count`
/// nodes from a LogEvent into `RUNNING` to the next one out of it).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Utilization {
    pub window: AggregateWindow,
    #[serde(flatten)]
    pub span: Span,
    /// Nodes busy at each bucket's start.
    pub busy_start: Vec<f64>,
    /// Time-weighted mean of nodes busy over each bucket (the last one up to `as_of`).
    pub busy_mean: Vec<f64>,
    /// Nodes busy at `as_of`: the jobs `RUNNING` then.
    pub busy_now: f64,
    /// The caller's event-log sequence number the aggregate reflects.
    pub seq: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_hour_is_sixty_minutes_ending_with_the_current_one() {
        let now = Utc.with_ymd_and_hms(2026, 1, 2, 10, 30, 17).unwrap();
        let span = AggregateWindow::Hour.span(now);
        assert_eq!(
            span.start,
            Utc.with_ymd_and_hms(2026, 1, 2, 9, 31, 0).unwrap()
        );
        assert_eq!(
            span.end,
            Utc.with_ymd_and_hms(2026, 1, 2, 10, 31, 0).unwrap()
        );
        assert_eq!(span.buckets, 60);
    }

    #[test]
    fn a_day_is_cut_in_quarter_hours_and_a_week_in_hours() {
        let now = Utc.with_ymd_and_hms(2026, 1, 2, 10, 30, 17).unwrap();
        let day = AggregateWindow::Day.span(now);
        assert_eq!(
            day.end,
            Utc.with_ymd_and_hms(2026, 1, 2, 10, 45, 0).unwrap()
        );
        assert_eq!(day.end - day.start, TimeDelta::hours(24));
        let week = AggregateWindow::Week.span(now);
        assert_eq!(
            week.end,
            Utc.with_ymd_and_hms(2026, 1, 2, 11, 0, 0).unwrap()
        );
        assert_eq!(week.end - week.start, TimeDelta::days(7));
    }
}
