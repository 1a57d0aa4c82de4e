//! The PostgreSQL store: the production backend, shared by every server replica.

mod apps;
mod batch_jobs;
mod jobs;
mod sessions;
mod sites;
mod transfers;
mod users;

use crate::{Store, StoreError};
use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres, Transaction};
use std::time::Duration;

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A PostgreSQL-backed [`Store`].
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database named by `url`, creating it when it does not exist.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        if !Postgres::database_exists(url).await? {
            Postgres::create_database(url).await?;
        }
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        Ok(PostgresStore { pool })
    }

    pub(crate) async fn write(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// A read transaction: one consistent snapshot for a count and its page.
    pub(crate) async fn read(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?)
    }
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

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// Binds a list of ids as a SQL `IN (…)` list.
pub(crate) fn push_id_list(b: &mut sqlx::QueryBuilder<'_, Postgres>, ids: &[i64]) {
    let mut sep = b.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    b.push(")");
}
