//! [`Store`]: everything the server persists, one trait per resource.

use crate::{
    AggregateStore, AppStore, BatchJobStore, ChangeLogStore, JobExportStore, JobStore,
    LogEventStore, SessionStore, SiteStore, StoreError, TransferStore, UserStore,
};

/// Everything the server persists. Implemented by [`sqlite::SqliteStore`] and
/// [`postgres::PostgresStore`]; chosen once at start-up from the database URL.
#[async_trait::async_trait]
pub trait Store:
    UserStore
    + AggregateStore
    + JobExportStore
    + SiteStore
    + AppStore
    + JobStore
    + TransferStore
    + LogEventStore
    + BatchJobStore
    + SessionStore
    + ChangeLogStore
    + Send
    + Sync
    + 'static
{
    /// Applies pending migrations.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// A cheap round trip, for readiness checks.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Connections open and idle in the pool(s), for metrics.
    fn pool_stats(&self) -> PoolStats;
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
    /// Closes the pool, waiting for checked-out connections.
    async fn close(&self);
}

/// Database connection pool use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
}
