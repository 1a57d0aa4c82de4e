//! The SQLite store: the embedded default. One file in WAL mode; writes go through a
//! single-connection pool with `BEGIN IMMEDIATE`, so writers queue in-process instead of
//! failing with SQLITE_BUSY; reads use a pool of their own.
//!
//! Repetition note: the `Store` and `Backend` impls here and in `postgres/mod.rs` have the
//! same shape over different pools (a writer and a reader here; one pool there).

mod aggregates;
mod apps;
mod batch_jobs;
mod change_log;
mod job_queries;
mod job_tx;
mod jobs;
mod log_events;
#[cfg(test)]
mod plan_tests;
mod sessions;
mod sites;
mod transfers;
mod users;

use crate::change_log::Notifier;
use crate::shared::change_log::AppendEvents;
use crate::shared::{Backend, Dialect};
use crate::{Store, StoreError};
use balsam_types::{Outbox, UserId};
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A SQLite-backed [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    notifier: Notifier,
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
        let writer = crate::shared::pool_options::<Sqlite>()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let reader = crate::shared::pool_options::<Sqlite>()
            .max_connections(max_connections.max(1))
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqliteStore {
            writer,
            reader,
            notifier: Notifier::default(),
        })
    }
}

#[async_trait::async_trait]
impl Backend for SqliteStore {
    type Db = Sqlite;

    async fn write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Appends `out` to the owner's event log, commits, then hands the numbered entries
    /// to the commit listener (publish after commit, never before).
    async fn commit_with(
        &self,
        mut tx: Transaction<'static, Sqlite>,
        owner: UserId,
        out: Outbox,
    ) -> Result<(), StoreError> {
        let logged = if out.is_empty() {
            Vec::new()
        } else {
            <Sqlite as AppendEvents>::append_events(&mut tx, owner, &out, balsam_types::time::now())
                .await?
        };
        tx.commit().await?;
        self.notifier.notify(owner, logged);
        Ok(())
    }

    fn notifier(&self) -> &Notifier {
        &self.notifier
    }

    /// A read transaction: one consistent snapshot for a count and its page.
    async fn read(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.reader.begin().await?)
    }

    /// The pool for single-statement reads outside a transaction.
    fn read_pool(&self) -> &SqlitePool {
        &self.reader
    }
}

impl Dialect for Sqlite {
    const STRPOS: &'static str = "instr";
    const FOR_UPDATE: &'static str = "";
    const PRICE_OUT_SORT: Option<&'static str> = None;
    type Time = i64;

    fn time(t: &DateTime<Utc>) -> i64 {
        to_micros(t)
    }

    fn from_time(us: i64) -> DateTime<Utc> {
        from_micros(us)
    }

    type Uuid = String;

    fn uuid(u: uuid::Uuid) -> String {
        u.to_string()
    }

    fn from_uuid(u: String) -> Option<uuid::Uuid> {
        u.parse().ok()
    }

    type Ids = String;

    fn ids(ids: &[i64]) -> String {
        ids_json(ids)
    }

    fn in_ids(param: &str) -> String {
        format!("IN (SELECT value FROM json_each({param}))")
    }

    fn lock_rows_of(_alias: &str) -> String {
        String::new()
    }

    fn key_share_rows_of(_alias: &str) -> String {
        String::new()
    }

    type Doc = String;

    fn doc(v: serde_json::Value) -> String {
        v.to_string()
    }

    fn push_tag_filters(
        b: &mut sqlx::QueryBuilder<'_, Self>,
        column: &str,
        tags: &[(String, String)],
    ) {
        for (key, value) in tags {
            b.push(format!(
                " AND EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.key = "
            ))
            .push_bind(key.clone())
            .push(" AND json_each.type = 'text' AND json_each.value = ")
            .push_bind(value.clone())
            .push(")");
        }
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

    fn pool_stats(&self) -> crate::PoolStats {
        crate::PoolStats {
            size: self.writer.size() + self.reader.size(),
            idle: u32::try_from(self.writer.num_idle() + self.reader.num_idle())
                .unwrap_or(u32::MAX),
        }
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

/// A JSON array of ids, for `IN (SELECT value FROM json_each(?))`.
pub(crate) fn ids_json(ids: &[balsam_types::Id]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}
