//! The PostgreSQL store: the production backend, shared by every server replica.
//!
//! Repetition note: the `Store` and `Backend` impls here and in `sqlite/mod.rs` have the
//! same shape over different pools (one pool here; a writer and a reader there).

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
use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::PgConnectOptions;
use sqlx::{PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How a write transaction starts (one round trip: sent as one simple query). Every
/// statement of a write is keyed (ids, a Site, an App, a Session), so a sequential scan
/// of `jobs` is never the plan to want; without statistics PostgreSQL chose one for a bulk
/// update's 1 000 ids on a 20 000-job table, and would on any table whose estimates lag.
pub(crate) const WRITE_BEGIN: &str = "BEGIN; SET LOCAL enable_seqscan = off";

/// The `BEGIN` of every read transaction: one consistent snapshot for a count and its page.
/// A macro, so that `job_queries::page_begin` can append its settings with `concat!`.
macro_rules! read_begin {
    () => {
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    };
}
pub(crate) use read_begin;

/// A PostgreSQL-backed [`Store`].
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    notifier: Notifier,
}

impl PostgresStore {
    /// Connects to the database named by `url`, creating it when it does not exist.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        if !Postgres::database_exists(url).await? {
            Postgres::create_database(url).await?;
        }
        // JIT off for the store's sessions: every statement here touches a few hundred
        // rows at most, but the planner settings that keep pages and the acquire on their
        // indexes (`enable_sort`/`enable_seqscan = off`) add 10^10 to the cost of any sort
        // that remains (the acquire merges its per-state branches and numbers the rows),
        // which put the acquire past `jit_above_cost`: 540 ms of LLVM compilation for a
        // 0.3 ms statement (docs/store-performance.md).
        let options = PgConnectOptions::from_str(url)?.options([("jit", "off")]);
        let pool = crate::shared::pool_options::<Postgres>()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        Ok(PostgresStore {
            pool,
            notifier: Notifier::default(),
        })
    }
}

#[async_trait::async_trait]
impl Backend for PostgresStore {
    type Db = Postgres;

    async fn write(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin_with(WRITE_BEGIN).await?)
    }

    /// Appends `out` to the owner's event log (last, so the owner's counter row is held
    /// only until the commit right after), commits, then hands the numbered entries to the
    /// commit listener.
    async fn commit_with(
        &self,
        mut tx: Transaction<'static, Postgres>,
        owner: UserId,
        out: Outbox,
    ) -> Result<(), StoreError> {
        let logged = if out.is_empty() {
            Vec::new()
        } else {
            <Postgres as AppendEvents>::append_events(
                &mut tx,
                owner,
                &out,
                balsam_types::time::now(),
            )
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
    async fn read(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin_with(read_begin!()).await?)
    }

    /// The pool for single-statement reads outside a transaction.
    fn read_pool(&self) -> &PgPool {
        &self.pool
    }
}

impl Dialect for Postgres {
    const STRPOS: &'static str = "strpos";
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    const PRICE_OUT_SORT: Option<&'static str> = Some("SET LOCAL enable_sort = off");
    type Time = NaiveDateTime;

    fn time(t: &DateTime<Utc>) -> NaiveDateTime {
        t.naive_utc()
    }

    fn from_time(t: NaiveDateTime) -> DateTime<Utc> {
        t.and_utc()
    }

    type Uuid = uuid::Uuid;

    fn uuid(u: uuid::Uuid) -> uuid::Uuid {
        u
    }

    fn from_uuid(u: uuid::Uuid) -> Option<uuid::Uuid> {
        Some(u)
    }

    type Ids = Vec<i64>;

    fn ids(ids: &[i64]) -> Vec<i64> {
        ids.to_vec()
    }

    fn in_ids(param: &str) -> String {
        format!("= ANY({param})")
    }

    fn lock_rows_of(alias: &str) -> String {
        format!(" FOR UPDATE OF {alias}")
    }

    fn key_share_rows_of(alias: &str) -> String {
        format!(" FOR KEY SHARE OF {alias}")
    }

    type Doc = sqlx::types::Json<serde_json::Value>;

    fn doc(v: serde_json::Value) -> Self::Doc {
        sqlx::types::Json(v)
    }

    fn push_tag_filters(
        b: &mut sqlx::QueryBuilder<'_, Self>,
        column: &str,
        tags: &[(String, String)],
    ) {
        if tags.is_empty() {
            return;
        }
        b.push(format!(" AND {column} @> "))
            .push_bind(tags_object(tags));
    }
}

/// `key:value` tag filters as the jsonb object `tags @>` compares with.
pub(crate) fn tags_object(tags: &[(String, String)]) -> sqlx::types::Json<serde_json::Value> {
    sqlx::types::Json(serde_json::Value::Object(
        tags.iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect(),
    ))
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn pool_stats(&self) -> crate::PoolStats {
        crate::PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        }
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
