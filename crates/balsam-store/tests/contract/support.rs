//! Throwaway databases for the contract stories, and a race of two writers.
//!
//! Repetition note: each story sets up and checks its own world, spelled out, so a failing
//! story reads on its own; shared fixtures live in `support.rs` and `jobs.rs`.

use balsam_store::Store;
use balsam_types::UserId;
use std::sync::Arc;

pub struct TestDb {
    pub store: Arc<dyn Store>,
    drop_url: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Closes the pool and drops a PostgreSQL test database.
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Some((admin_url, name)) = self.drop_url {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&admin_url)
                .await
                .expect("admin connect");
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .expect("drop test database");
        }
    }
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = balsam_store::connect(&url, 4).await.expect("open sqlite");
    store.migrate().await.expect("migrate sqlite");
    TestDb {
        store,
        drop_url: None,
        _dir: Some(dir),
    }
}

pub async fn postgres() -> Option<TestDb> {
    let Ok(base) = std::env::var("BALSAM_TEST_POSTGRES_URL") else {
        if std::env::var("BALSAM_TEST_REQUIRE_POSTGRES").is_ok() {
            panic!("BALSAM_TEST_REQUIRE_POSTGRES is set but BALSAM_TEST_POSTGRES_URL is not");
        }
        eprintln!("skipping PostgreSQL: BALSAM_TEST_POSTGRES_URL is not set");
        return None;
    };
    let base = base.trim_end_matches('/').to_owned();
    let name = format!("balsam_test_{}", uuid::Uuid::new_v4().simple());
    let store = match balsam_store::connect(&format!("{base}/{name}"), 4).await {
        Ok(store) => store,
        Err(err) if std::env::var("BALSAM_TEST_REQUIRE_POSTGRES").is_err() => {
            eprintln!("skipping PostgreSQL: {err:?}");
            return None;
        }
        Err(err) => panic!("PostgreSQL required but unreachable: {err:?}"),
    };
    store.migrate().await.expect("migrate postgres");
    Some(TestDb {
        store,
        drop_url: Some((format!("{base}/postgres"), name)),
        _dir: None,
    })
}

/// A fresh user with a unique name.
pub async fn user(store: &dyn Store) -> UserId {
    let name = format!("user-{}", uuid::Uuid::new_v4().simple());
    store
        .create_user(&name, "hash")
        .await
        .expect("create user")
        .id
}

/// Runs `write` and `delete` on two tasks released together, `delete` `lag` later (so the
/// write usually reads what it needs first), and returns both results: a story's race of
/// a write against the deletion of what it names.
pub async fn race<W, D>(write: W, delete: D, lag: std::time::Duration) -> (W::Output, D::Output)
where
    W: std::future::Future + Send + 'static,
    W::Output: Send + 'static,
    D: std::future::Future + Send + 'static,
    D::Output: Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let write = {
        let barrier = barrier.clone();
        tokio::spawn(async move {
            barrier.wait().await;
            write.await
        })
    };
    let delete = tokio::spawn(async move {
        barrier.wait().await;
        tokio::time::sleep(lag).await;
        delete.await
    });
    (write.await.unwrap(), delete.await.unwrap())
}
