//! The arithmetic of the chart aggregates, shared by both backends: each backend's SQL
//! (`{sqlite,postgres}/aggregates.rs`) groups the window's events by bucket, and these
//! functions lay the groups out as the API's fixed-size series.
//!
//! Repetition note: each resource's listing, read, create and delete have the same shape on
//! purpose; the shared steps are `paged!`, `get_owned!`, `lock_owned!` and `commit_one`
//! (`shared/mod.rs`), and what repeats is each call with that resource's SQL.

use crate::lifecycle::NewLogEvent;
use balsam_types::aggregates::{AggregateWindow, SiteThroughput, Span, Throughput, Utilization};
use balsam_types::{Id, JobState};
use std::collections::BTreeMap;

/// `(bucket, site_id, finishes)` rows into per-Site series; rows outside the span are
/// ignored (the SQL bounds the window, this guards the index).
pub(crate) fn throughput(
    window: AggregateWindow,
    span: Span,
    rows: impl IntoIterator<Item = (i64, Id, i64)>,
    seq: i64,
) -> Throughput {
    let mut sites: BTreeMap<Id, Vec<i64>> = BTreeMap::new();
    let mut total = 0;
    for (bucket, site_id, n) in rows {
        let Some(i) = usize::try_from(bucket).ok().filter(|&i| i < span.buckets) else {
            continue;
        };
        sites
            .entry(site_id)
            .or_insert_with(|| vec![0; span.buckets])[i] += n;
        total += n;
    }
    Throughput {
        window,
        span,
        sites: sites
            .into_iter()
            .map(|(site_id, counts)| SiteThroughput { site_id, counts })
            .collect(),
        total,
        seq,
    }
}

/// One bucket's moves into (+) and out of (−) `RUNNING`, weighted by the job's nodes:
/// `(bucket, Σ weight, Σ weight · seconds since the span's start)`.
pub(crate) type MovesRow = (i64, f64, f64);

/// The busy-nodes series from the nodes busy at `as_of` and the moves since the span's
/// start: the level at the start is `busy_now` minus every move since, each bucket's
/// mean adds each move for the part of the bucket after it.
pub(crate) fn utilization(
    window: AggregateWindow,
    span: Span,
    busy_now: f64,
    rows: impl IntoIterator<Item = MovesRow>,
    seq: i64,
) -> Utilization {
    let n = span.buckets;
    let width = span.bucket_seconds as f64;
    let as_of = (span.as_of - span.start).as_seconds_f64();
    let mut delta = vec![0.0; n];
    let mut weighted = vec![0.0; n];
    let mut level = busy_now;
    for (bucket, d, dt) in rows {
        level -= d;
        if let Some(i) = usize::try_from(bucket).ok().filter(|&i| i < n) {
            delta[i] += d;
            weighted[i] += dt;
        }
    }
    let mut busy_start = Vec::with_capacity(n);
    let mut busy_mean = Vec::with_capacity(n);
    for i in 0..n {
        let from = i as f64 * width;
        let to = (from + width).min(as_of).max(from);
        let mean = if to > from {
            // Each move of weight w at t adds w · (to − t) / (to − from).
            level + (delta[i] * to - weighted[i]) / (to - from)
        } else {
            level
        };
        busy_start.push(round(level));
        busy_mean.push(round(mean));
        level += delta[i];
    }
    Utilization {
        window,
        span,
        busy_start,
        busy_mean,
        busy_now: round(busy_now),
        seq,
    }
}

/// Sums of fractional node counts (packed jobs) drift: keep 3 decimals.
fn round(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Finishes per (bucket, Site) from the per-minute rollup (`log_event_minutes`, migration
/// 0009): `$1` the window's first minute, `$2` minutes per bucket, `$3` owner, `$4` the
/// minute after the window. Reads the `(owner_id, minute, …)` primary-key range of the
/// window: at most minutes × Sites × writer shards rows, whatever the number of events.
pub(crate) const THROUGHPUT_SQL: &str =
    "SELECT (minute - $1) / $2 AS bucket, site_id, CAST(sum(finished) AS BIGINT) \
     FROM log_event_minutes WHERE owner_id = $3 AND minute >= $1 AND minute < $4 \
     GROUP BY 1, 2 HAVING sum(finished) <> 0";

/// Weighted moves into (+) and out of (−) RUNNING per bucket since the window's start
/// ([`MovesRow`]); each minute's `moved_s` is relative to the minute, moved to the span's
/// start here. Same parameters as [`THROUGHPUT_SQL`] (no end: later moves still walk the
/// level back from now).
pub(crate) const MOVES_SQL: &str =
    "SELECT (minute - $1) / $2 AS bucket, sum(moved), sum(moved_s + moved * ((minute - $1) * 60)) \
     FROM log_event_minutes WHERE owner_id = $3 AND minute >= $1 \
     GROUP BY 1";

/// Nodes busy now (`$1` owner): the node weights the RUNNING counters of the owner's Sites
/// hold (`job_state_counts.nodes`, migration 0011), not a read of every RUNNING job.
pub(crate) const BUSY_NOW_SQL: &str = "SELECT COALESCE(sum(c.nodes), 0.0) \
     FROM job_state_counts c JOIN sites s ON s.id = c.site_id \
     WHERE s.owner_id = $1 AND c.state = 'RUNNING'";

/// The LogEvents of one write that the charts count, one entry per event, as the rollup
/// statement binds them (PostgreSQL: one array per column; SQLite: one JSON document).
#[derive(Debug, Default)]
pub(crate) struct Rollup {
    pub job_ids: Vec<Id>,
    /// Minutes since the epoch (floored).
    pub minutes: Vec<i64>,
    /// Seconds into the minute.
    pub seconds: Vec<f64>,
    /// 1 for a move into `JOB_FINISHED`.
    pub finished: Vec<i64>,
    /// +1 into `RUNNING`, −1 out of it, 0 otherwise.
    pub signs: Vec<f64>,
}

impl Rollup {
    /// The events among `events` that move the charts: into `JOB_FINISHED`, into or out
    /// of `RUNNING`.
    pub(crate) fn of(events: &[NewLogEvent]) -> Self {
        let mut r = Self::default();
        for e in events {
            let finished = e.to_state == JobState::JobFinished;
            let sign = match (
                e.from_state == JobState::Running,
                e.to_state == JobState::Running,
            ) {
                (false, true) => 1.0,
                (true, false) => -1.0,
                _ => 0.0,
            };
            if !finished && sign == 0.0 {
                continue;
            }
            let micros = e.timestamp.timestamp_micros();
            r.job_ids.push(e.job_id);
            r.minutes.push(micros.div_euclid(60_000_000));
            r.seconds
                .push(micros.rem_euclid(60_000_000) as f64 / 1_000_000.0);
            r.finished.push(i64::from(finished));
            r.signs.push(sign);
        }
        r
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.job_ids.is_empty()
    }

    /// `[[job_id, minute, seconds, finished, sign], …]` (SQLite's binding).
    pub(crate) fn document(&self) -> serde_json::Value {
        (0..self.job_ids.len())
            .map(|i| {
                serde_json::json!([
                    self.job_ids[i],
                    self.minutes[i],
                    self.seconds[i],
                    self.finished[i],
                    self.signs[i]
                ])
            })
            .collect()
    }
}

/// The window in whole minutes as the rollup statements bind it: `(first minute, minutes
/// per bucket, the minute after the window)`. Spans start on a bucket boundary and buckets
/// are whole minutes, so a minute falls in exactly one bucket.
pub(crate) fn minutes(span: &Span) -> (i64, i64, i64) {
    (
        span.start.timestamp().div_euclid(60),
        span.bucket_seconds / 60,
        span.end.timestamp().div_euclid(60),
    )
}

/// The statements each dialect writes its own way.
pub(crate) trait AggregateSql: super::Dialect {
    /// Takes back from the rollup the LogEvents of the jobs `$1` (a list of ids as
    /// [`Dialect::ids`](super::Dialect::ids) binds it), before those jobs (and with them
    /// their LogEvents) are deleted.
    const UNROLL: &'static str;
}

/// `impl AggregateStore for $store` (the statements are the same on both backends). Read
/// in one snapshot, so the jobs RUNNING now and the moves since the window's start agree.
macro_rules! aggregate_store {
    ($store:ty) => {
        use crate::shared::aggregates::{self, AggregateSql, MovesRow};
        use crate::shared::Backend as _;
        use crate::{AggregateStore, StoreError};
        use balsam_types::aggregates::{AggregateWindow, Throughput, Utilization};
        use balsam_types::{Id, UserId};
        use chrono::{DateTime, Utc};

        #[async_trait::async_trait]
        impl AggregateStore for $store {
            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn throughput(
                &self,
                owner: UserId,
                window: AggregateWindow,
                now: DateTime<Utc>,
            ) -> Result<Throughput, StoreError> {
                let span = window.span(now);
                let mut tx = self.read().await?;
                let seq = crate::shared::head_seq!(&mut *tx, owner);
                let (first, per_bucket, after) = aggregates::minutes(&span);
                let rows: Vec<(i64, Id, i64)> = sqlx::query_as(aggregates::THROUGHPUT_SQL)
                    .bind(first)
                    .bind(per_bucket)
                    .bind(owner)
                    .bind(after)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(aggregates::throughput(window, span, rows, seq))
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn utilization(
                &self,
                owner: UserId,
                window: AggregateWindow,
                now: DateTime<Utc>,
            ) -> Result<Utilization, StoreError> {
                let span = window.span(now);
                let mut tx = self.read().await?;
                let seq = crate::shared::head_seq!(&mut *tx, owner);
                let busy_now: f64 = sqlx::query_scalar(aggregates::BUSY_NOW_SQL)
                    .bind(owner)
                    .fetch_one(&mut *tx)
                    .await?;
                let (first, per_bucket, _) = aggregates::minutes(&span);
                let rows: Vec<MovesRow> = sqlx::query_as(aggregates::MOVES_SQL)
                    .bind(first)
                    .bind(per_bucket)
                    .bind(owner)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(aggregates::utilization(window, span, busy_now, rows, seq))
            }
        }
    };
}
pub(crate) use aggregate_store;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn span() -> Span {
        // 10:00:30: the last bucket (10:00) is half over.
        AggregateWindow::Hour.span(Utc.with_ymd_and_hms(2026, 1, 2, 10, 0, 30).unwrap())
    }

    #[test]
    fn finishes_land_in_their_site_and_bucket_and_strays_are_dropped() {
        let t = throughput(
            AggregateWindow::Hour,
            span(),
            [(0, 2, 3), (59, 2, 1), (5, 1, 4), (60, 1, 9), (-1, 1, 9)],
            7,
        );
        assert_eq!(t.total, 8);
        assert_eq!(t.sites.len(), 2);
        assert_eq!(t.sites[0].site_id, 1);
        assert_eq!(t.sites[0].counts[5], 4);
        assert_eq!(t.sites[1].counts[0], 3);
        assert_eq!(t.sites[1].counts[59], 1);
        assert_eq!(t.sites[1].counts.len(), 60);
    }

    #[test]
    fn the_busy_level_is_walked_back_from_now_and_means_weigh_time() {
        // Two nodes busy now. One job (1 node) started 30 s into bucket 58; a 2-node job
        // started at bucket 10's start and ended 15 s into the last bucket.
        let rows = [
            (10, 2.0, 2.0 * 600.0),
            (58, 1.0, 58.0 * 60.0 + 30.0),
            (59, -2.0, -2.0 * (59.0 * 60.0 + 15.0)),
        ];
        let u = utilization(AggregateWindow::Hour, span(), 2.0, rows, 1);
        // 2 now = 1 (started at 58) + 1 busy since before the window.
        assert_eq!(u.busy_start[0], 1.0);
        assert_eq!(u.busy_mean[0], 1.0);
        assert_eq!(u.busy_start[10], 1.0);
        assert_eq!(u.busy_mean[10], 3.0);
        assert_eq!(u.busy_mean[58], 3.5);
        assert_eq!(u.busy_start[59], 4.0);
        // The last bucket runs 30 s to `as_of`: 4 for 15 s, then 2 for 15 s.
        assert_eq!(u.busy_mean[59], 3.0);
        assert_eq!(u.busy_now, 2.0);
    }
}
