//! The SQLite store: the embedded default. One file in WAL mode; writes go through a
//! single-connection pool with `BEGIN IMMEDIATE`, so writers queue in-process instead of
//! failing with SQLITE_BUSY; reads use a pool of their own.

mod apps;
mod batch_jobs;
mod jobs;
mod sessions;
mod sites;
mod transfers;
mod users;

use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A SQLite-backed [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file named by `url`.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        if let Some(dir) = options.get_filename().parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Invalid(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqliteStore { writer, reader })
    }

    /// A write transaction holding SQLite's write lock from its first statement.
    pub(crate) async fn write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// A read transaction: one consistent snapshot for a count and its page.
    pub(crate) async fn read(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.reader.begin().await?)
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.writer).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// Timestamps are stored as integer microseconds since the epoch.
pub(crate) fn to_micros(t: &DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn from_micros(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// Binds a list of ids as a SQL `IN (…)` list.
pub(crate) fn push_id_list(b: &mut sqlx::QueryBuilder<'_, Sqlite>, ids: &[i64]) {
    let mut sep = b.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    b.push(")");
}
