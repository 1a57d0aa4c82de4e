//! Chart aggregates of a user's LogEvents, bucketed in SQL so an answer's size is fixed by
//! the window (60, 96 or 168 buckets) whatever the size of the tables. Each query reads
//! the owner-led `(owner_id, to_state|from_state, timestamp, id)` index range of the
//! window, never the whole table (docs/store-performance.md).

use crate::StoreError;
use balsam_types::aggregates::{AggregateWindow, Throughput, Utilization};
use balsam_types::UserId;
use chrono::{DateTime, Utc};

#[async_trait::async_trait]
pub trait AggregateStore {
    /// LogEvents into `JOB_FINISHED` per bucket and Site over `window` ending at `now`.
    async fn throughput(
        &self,
        owner: UserId,
        window: AggregateWindow,
        now: DateTime<Utc>,
    ) -> Result<Throughput, StoreError>;

    /// Nodes busy running jobs per bucket over `window` ending at `now`: walked back from
    /// the jobs `RUNNING` at `now` through the window's moves into and out of `RUNNING`.
    async fn utilization(
        &self,
        owner: UserId,
        window: AggregateWindow,
        now: DateTime<Utc>,
    ) -> Result<Utilization, StoreError>;
}
