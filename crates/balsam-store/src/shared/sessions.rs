//! Sessions on both backends: [`SessionStore`](crate::SessionStore) written once but for
//! the acquire, which each backend writes its own way ([`AcquireSql`]: PostgreSQL locks
//! candidates with `FOR UPDATE SKIP LOCKED` in one statement; SQLite's single writer
//! serialises launchers).
//!
//! Repetition note: each resource's listing, read, create and delete have the same shape on
//! purpose; the shared steps are `paged!`, `get_owned!`, `lock_owned!` and `commit_one`
//! (`shared/mod.rs`), and what repeats is each call with that resource's SQL.

use crate::StoreError;
use balsam_types::{Id, Job, Session, SessionAcquire, UserId};
use chrono::{DateTime, Utc};

/// A backend's acquire.
#[async_trait::async_trait]
pub(crate) trait AcquireSql: sqlx::Database {
    /// In a write transaction: checks that session `id` is the owner's (`NotFound`
    /// otherwise), refreshes its heartbeat, and locks up to `spec.max_num_jobs` of its
    /// Site's eligible jobs to it, in acquire order. Returns the session as updated and
    /// the jobs as stored (none on an idle acquire).
    async fn acquire(
        conn: &mut Self::Connection,
        owner: UserId,
        id: Id,
        spec: &SessionAcquire,
        now: DateTime<Utc>,
    ) -> Result<(Session, Vec<Job>), StoreError>;
}

/// `impl SessionStore for $store` and the session helpers the backend's acquire and
/// lifecycle primitives use (`session`, `owned_session`, `beat`, `fetch_sessions`), where
/// `$db` is the store's `sqlx::Database`.
macro_rules! session_store {
    ($store:ty, $db:ty) => {
        use crate::lifecycle;
        use crate::shared::sessions::AcquireSql;
        use crate::shared::{push_id_list, Backend as _, Dialect};
        use crate::{SessionStore, StoreError};
        use balsam_types::{Id, Job, Outbox, Paginated, Session, SessionAcquire, SessionCreate, UserId};
        use chrono::{DateTime, Utc};
        use sqlx::QueryBuilder;

        type Db = $db;

        const COLUMNS: &str = "x.id, x.site_id, x.batch_job_id, x.heartbeat";
        type SessionRow = (i64, i64, Option<i64>, <Db as Dialect>::Time);

        fn session(r: SessionRow) -> Session {
            Session {
                id: r.0,
                site_id: r.1,
                batch_job_id: r.2,
                heartbeat: Db::from_time(r.3),
            }
        }

        /// Full Session rows by id (for change records).
        pub(crate) async fn fetch_sessions(
            conn: &mut <Db as sqlx::Database>::Connection,
            ids: &[Id],
        ) -> Result<Vec<Session>, StoreError> {
            let rows: Vec<SessionRow> = sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM sessions x WHERE x.id {} ORDER BY x.id",
                Db::in_ids("$1")
            ))
            .bind(Db::ids(ids))
            .fetch_all(conn)
            .await?;
            Ok(rows.into_iter().map(session).collect())
        }

        /// The owner's session `id`, or `NotFound`.
        pub(crate) async fn owned_session(
            conn: &mut <Db as sqlx::Database>::Connection,
            owner: UserId,
            id: Id,
        ) -> Result<Session, StoreError> {
            let row: Option<SessionRow> = sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM sessions x JOIN sites s ON s.id = x.site_id \
                 WHERE x.id = $1 AND s.owner_id = $2{}",
                Db::lock_rows_of("x")
            ))
            .bind(id)
            .bind(owner)
            .fetch_optional(conn)
            .await?;
            row.map(session).ok_or(StoreError::NotFound)
        }

        /// Sets the heartbeat and returns the updated session.
        pub(crate) async fn beat(conn: &mut <Db as sqlx::Database>::Connection, id: Id, now: DateTime<Utc>) -> Result<Session, StoreError> {
            let row: SessionRow = sqlx::query_as(
                "UPDATE sessions SET heartbeat = $1 WHERE id = $2 RETURNING id, site_id, batch_job_id, heartbeat",
            )
            .bind(Db::time(&now))
            .bind(id)
            .fetch_one(conn)
            .await?;
            Ok(session(row))
        }

        #[async_trait::async_trait]
        impl SessionStore for $store {
            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn create_session(
                &self,
                owner: UserId,
                s: &SessionCreate,
            ) -> Result<Session, StoreError> {
                let mut tx = self.write().await?;
                if !crate::shared::site_owned!(&mut *tx, owner, s.site_id) {
                    return Err(StoreError::Invalid(format!(
                        "No site with ID {}",
                        s.site_id
                    )));
                }
                if let Some(bj) = s.batch_job_id {
                    let found: Option<i64> =
                        sqlx::query_scalar("SELECT id FROM batch_jobs WHERE id = $1 AND site_id = $2")
                            .bind(bj)
                            .bind(s.site_id)
                            .fetch_optional(&mut *tx)
                            .await?;
                    if found.is_none() {
                        return Err(StoreError::Invalid(format!("No batch_job with id {bj}")));
                    }
                }
                let row: SessionRow = sqlx::query_as(
                    "INSERT INTO sessions (site_id, batch_job_id, heartbeat) VALUES ($1, $2, $3) \
                     RETURNING id, site_id, batch_job_id, heartbeat",
                )
                .bind(s.site_id)
                .bind(s.batch_job_id)
                .bind(Db::time(&balsam_types::time::now()))
                .fetch_one(&mut *tx)
                .await?;
                self.commit_one(tx, owner, balsam_types::Action::Create, session(row)).await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn list_sessions(
                &self,
                owner: UserId,
                ids: &[Id],
            ) -> Result<Paginated<Session>, StoreError> {
                let mut tx = self.read().await?;
                let seq = crate::shared::head_seq!(&mut *tx, owner);
                let mut b = QueryBuilder::<Db>::new(format!(
                    "SELECT {COLUMNS} FROM sessions x JOIN sites s ON s.id = x.site_id WHERE s.owner_id = "
                ));
                b.push_bind(owner);
                if !ids.is_empty() {
                    b.push(" AND x.id IN (");
                    push_id_list(&mut b, ids);
                }
                b.push(" ORDER BY x.id");
                let rows: Vec<SessionRow> = b.build_query_as().fetch_all(&mut *tx).await?;
                tx.commit().await?;
                let results: Vec<Session> = rows.into_iter().map(session).collect();
                Ok(Paginated {
                    count: results.len() as i64,
                    results,
                    seq,
                })
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner, id = id))]
            async fn tick_session(&self, owner: UserId, id: Id) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                owned_session(&mut tx, owner, id).await?;
                let updated = beat(&mut tx, id, balsam_types::time::now()).await?;
                let mut out = Outbox::new();
                out.updated(&updated);
                self.commit_with(tx, owner, out).await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner, id = id))]
            async fn acquire_jobs(
                &self,
                owner: UserId,
                id: Id,
                spec: &SessionAcquire,
            ) -> Result<Vec<Job>, StoreError> {
                let now = balsam_types::time::now();
                let mut tx = self.write().await?;
                let (updated, jobs) = <Db as AcquireSql>::acquire(&mut tx, owner, id, spec, now).await?;
                if jobs.is_empty() {
                    // An idle acquire only refreshes the heartbeat: not worth an event per second.
                    tx.commit().await?;
                    return Ok(Vec::new());
                }
                let mut out = Outbox::new();
                out.bulk_updated(&jobs);
                out.updated(&updated);
                self.commit_with(tx, owner, out).await?;
                Ok(jobs)
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner, id = id))]
            async fn delete_session(&self, owner: UserId, id: Id) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                owned_session(&mut tx, owner, id).await?;
                let mut out = Outbox::new();
                lifecycle::end_session(&mut *tx, owner, id, balsam_types::time::now(), &mut out).await?;
                self.commit_with(tx, owner, out).await
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn sweep_sessions(
                &self,
                owner: Option<UserId>,
                stale_before: DateTime<Utc>,
            ) -> Result<u64, StoreError> {
                let mut b = QueryBuilder::<Db>::new(
                    "SELECT s.owner_id, x.id FROM sessions x JOIN sites s ON s.id = x.site_id \
                     LEFT JOIN batch_jobs b ON b.id = x.batch_job_id \
                     WHERE (x.heartbeat <= ",
                );
                b.push_bind(Db::time(&stale_before))
                    .push(" OR b.state = 'finished')");
                if let Some(owner) = owner {
                    b.push(" AND s.owner_id = ").push_bind(owner);
                }
                b.push(" ORDER BY s.owner_id, x.id");
                let expired: Vec<(i64, i64)> = b.build_query_as().fetch_all(self.read_pool()).await?;
                // One transaction per session: each owner's events are numbered in its own log.
                let mut ended = 0;
                for (owner, id) in expired {
                    let mut tx = self.write().await?;
                    if owned_session(&mut tx, owner, id).await.is_err() {
                        continue; // ended meanwhile
                    }
                    let mut out = Outbox::new();
                    lifecycle::end_session(&mut *tx, owner, id, balsam_types::time::now(), &mut out)
                        .await?;
                    self.commit_with(tx, owner, out).await?;
                    ended += 1;
                }
                Ok(ended)
            }
        }
    };
}
pub(crate) use session_store;
