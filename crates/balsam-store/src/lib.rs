//! Persistence for balsam-rs: the [`Store`] trait, split into per-resource traits whose
//! methods are use-case sized and own their transaction, with a SQLite and a PostgreSQL
//! implementation. Knows nothing of HTTP; never publishes events itself.

mod aggregates;
mod apps;
mod batch_jobs;
mod change_log;
mod error;
mod export;
mod jobs;
mod lifecycle;
mod log_events;
#[cfg(test)]
mod plan_shapes;
pub mod postgres;
mod sessions;
mod shared;
mod sites;
pub mod sqlite;
mod transfers;
mod users;

use std::sync::Arc;

pub use aggregates::AggregateStore;
pub use apps::AppStore;
pub use batch_jobs::BatchJobStore;
pub use change_log::{ChangeLogPage, ChangeLogStore, CommitListener};
pub use error::StoreError;
pub use export::JobExportStore;
pub use jobs::{JobStore, JobUpdate};
pub use log_events::LogEventStore;
pub use sessions::SessionStore;
pub use sites::SiteStore;
pub use transfers::TransferStore;
pub use users::{UserCredentials, UserStore};

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

/// Opens the store named by `url` (`sqlite://PATH` / `sqlite:PATH` or `postgres://…`),
/// creating the SQLite file or the PostgreSQL database when missing. Does not migrate.
pub async fn connect(url: &str, max_connections: u32) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(
            sqlite::SqliteStore::connect(url, max_connections).await?,
        ))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(
            postgres::PostgresStore::connect(url, max_connections).await?,
        ))
    } else {
        Err(StoreError::Invalid(format!(
            "unsupported database URL {:?}: expected sqlite://PATH or postgres://…",
            redact_url(url)
        )))
    }
}

/// A database URL with any password replaced by `***`, safe to log.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Migration versions embedded for each backend; they must stay in lock-step.
pub fn migration_versions() -> (Vec<i64>, Vec<i64>) {
    let versions = |m: &sqlx::migrate::Migrator| m.iter().map(|m| m.version).collect();
    (versions(&sqlite::MIGRATOR), versions(&postgres::MIGRATOR))
}

#[cfg(test)]
mod upgrade_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_list_the_same_migration_versions() {
        let (sqlite, postgres) = migration_versions();
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, postgres);
    }

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("postgres://bob:s3cret@db:5432/balsam"),
            "postgres://bob:***@db:5432/balsam"
        );
        assert_eq!(
            redact_url("postgres://bob@db/balsam"),
            "postgres://bob@db/balsam"
        );
        assert_eq!(
            redact_url("sqlite://data/balsam.db"),
            "sqlite://data/balsam.db"
        );
    }
}
