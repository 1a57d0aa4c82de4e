//! Choosing and opening a backend from a database URL.

use crate::store::Store;
use crate::{postgres, sqlite, StoreError};
use std::sync::Arc;

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

/// A connection idle at least this long is pinged before it is handed out.
const PING_IF_IDLE_FOR: std::time::Duration = std::time::Duration::from_secs(10);

/// Pool options both backends start from. sqlx pings every connection twice per use by
/// default: when it is returned (always; that flushes an abandoned transaction and drops a
/// broken connection) and again when it is next acquired (`test_before_acquire`). The
/// second ping is a whole extra round trip before every statement (a count call was two
/// round trips for one statement), and checks what the release ping checked moments ago:
/// here a connection is pinged on acquire only when it sat idle long enough to have been
/// cut meanwhile (a database restart, a proxy's idle timeout).
pub(crate) fn pool_options<DB: sqlx::Database>() -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new()
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_IF_IDLE_FOR {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

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
