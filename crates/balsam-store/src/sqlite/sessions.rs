//! Sessions on SQLite: creation, heartbeats, acquire (serialised by the single writer,
//! so two launchers can never take the same job), expiry.

use super::job_queries::{push_tag_filters, JobRow, JOB_COLUMNS};
use super::{from_micros, head_seq, ids_json, push_id_list, to_micros, SqliteStore};
use crate::lifecycle;
use crate::shared::Backend as _;
use crate::{SessionStore, StoreError};
use balsam_types::{Id, Job, Outbox, Paginated, Session, SessionAcquire, SessionCreate, UserId};
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

const COLUMNS: &str = "x.id, x.site_id, x.batch_job_id, x.heartbeat";
type SessionRow = (i64, i64, Option<i64>, i64);

fn session(r: SessionRow) -> Session {
    Session {
        id: r.0,
        site_id: r.1,
        batch_job_id: r.2,
        heartbeat: from_micros(r.3),
    }
}

/// Full Session rows by id (for change records).
pub(crate) async fn fetch_sessions(
    conn: &mut SqliteConnection,
    ids: &[Id],
) -> Result<Vec<Session>, StoreError> {
    let rows: Vec<SessionRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM sessions x WHERE x.id IN (SELECT value FROM json_each($1)) ORDER BY x.id"
    ))
    .bind(ids_json(ids))
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(session).collect())
}

/// The owner's session `id`, or `NotFound`.
async fn owned_session(
    conn: &mut SqliteConnection,
    owner: UserId,
    id: Id,
) -> Result<Session, StoreError> {
    let row: Option<SessionRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM sessions x JOIN sites s ON s.id = x.site_id \
         WHERE x.id = $1 AND s.owner_id = $2"
    ))
    .bind(id)
    .bind(owner)
    .fetch_optional(conn)
    .await?;
    row.map(session).ok_or(StoreError::NotFound)
}

/// Sets the heartbeat and returns the updated session.
async fn beat(
    conn: &mut SqliteConnection,
    id: Id,
    now: DateTime<Utc>,
) -> Result<Session, StoreError> {
    let row: SessionRow = sqlx::query_as(
        "UPDATE sessions SET heartbeat = $1 WHERE id = $2 RETURNING id, site_id, batch_job_id, heartbeat",
    )
    .bind(to_micros(&now))
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(session(row))
}

#[async_trait::async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(
        &self,
        owner: UserId,
        s: &SessionCreate,
    ) -> Result<Session, StoreError> {
        let mut tx = self.write().await?;
        let site: Option<i64> =
            sqlx::query_scalar("SELECT id FROM sites WHERE id = $1 AND owner_id = $2")
                .bind(s.site_id)
                .bind(owner)
                .fetch_optional(&mut *tx)
                .await?;
        if site.is_none() {
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
        .bind(to_micros(&balsam_types::time::now()))
        .fetch_one(&mut *tx)
        .await?;
        let created = session(row);
        let mut out = Outbox::new();
        out.created(&created);
        self.commit_with(tx, owner, out).await?;
        Ok(created)
    }

    async fn list_sessions(
        &self,
        owner: UserId,
        ids: &[Id],
    ) -> Result<Paginated<Session>, StoreError> {
        let mut tx = self.read().await?;
        let seq = head_seq(&mut tx, owner).await?;
        let mut b = QueryBuilder::<Sqlite>::new(format!(
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

    async fn tick_session(&self, owner: UserId, id: Id) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        owned_session(&mut tx, owner, id).await?;
        let updated = beat(&mut tx, id, balsam_types::time::now()).await?;
        let mut out = Outbox::new();
        out.updated(&updated);
        self.commit_with(tx, owner, out).await
    }

    async fn acquire_jobs(
        &self,
        owner: UserId,
        id: Id,
        spec: &SessionAcquire,
    ) -> Result<Vec<Job>, StoreError> {
        let now = balsam_types::time::now();
        let mut tx = self.write().await?;
        let current = owned_session(&mut tx, owner, id).await?;
        let updated = beat(&mut tx, id, now).await?;
        if spec.states.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let mut b = QueryBuilder::<Sqlite>::new("");
        push_acquire_candidates(&mut b, owner, current.site_id, spec);
        let candidates: Vec<(i64, i64, i64)> = b.build_query_as().fetch_all(&mut *tx).await?;
        let ids = balsam_types::session::acquire_prefix(&candidates, spec.max_aggregate_nodes);
        if ids.is_empty() {
            // An idle acquire only refreshes the heartbeat: not worth an event per second.
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let rows: Vec<JobRow> = sqlx::query_as(&format!(
            "UPDATE jobs SET session_id = $1, batch_job_id = COALESCE($2, batch_job_id), last_update = $3 \
             WHERE id IN (SELECT value FROM json_each($4)) RETURNING {JOB_COLUMNS}"
        ))
        .bind(id)
        .bind(current.batch_job_id)
        .bind(to_micros(&now))
        .bind(ids_json(&ids))
        .fetch_all(&mut *tx)
        .await?;
        let jobs =
            crate::shared::jobs::in_order_of(&ids, rows.into_iter().map(Job::from).collect());
        let mut out = Outbox::new();
        out.bulk_updated(&jobs);
        out.updated(&updated);
        self.commit_with(tx, owner, out).await?;
        Ok(jobs)
    }

    async fn delete_session(&self, owner: UserId, id: Id) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        owned_session(&mut tx, owner, id).await?;
        let mut out = Outbox::new();
        lifecycle::end_session(&mut *tx, owner, id, balsam_types::time::now(), &mut out).await?;
        self.commit_with(tx, owner, out).await
    }

    async fn sweep_sessions(
        &self,
        owner: Option<UserId>,
        stale_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut b = QueryBuilder::<Sqlite>::new(
            "SELECT s.owner_id, x.id FROM sessions x JOIN sites s ON s.id = x.site_id \
             LEFT JOIN batch_jobs b ON b.id = x.batch_job_id \
             WHERE (x.heartbeat <= ",
        );
        b.push_bind(to_micros(&stale_before))
            .push(" OR b.state = 'finished')");
        if let Some(owner) = owner {
            b.push(" AND s.owner_id = ").push_bind(owner);
        }
        b.push(" ORDER BY s.owner_id, x.id");
        let expired: Vec<(i64, i64)> = b.build_query_as().fetch_all(&self.reader).await?;
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

/// The acquire's candidates, `(id, num_nodes, node_packing_count)` in acquire order.
pub(crate) fn push_acquire_candidates(
    b: &mut QueryBuilder<'_, Sqlite>,
    owner: UserId,
    site_id: Id,
    spec: &SessionAcquire,
) {
    let order = crate::shared::acquire::acquire_order(spec);
    let by_id = spec.max_aggregate_nodes.is_none();
    let states = crate::shared::acquire::acquire_states(spec);
    let tags = crate::shared::acquire::acquire_tags(spec);
    // One branch per state, each reading `jobs_acquire_idx (site_id, state)` (rowid
    // order) or `jobs_acquire_packing_idx` in acquire order and stopping at the limit;
    // SQLite merges the branches (`MERGE (UNION ALL)`). The unary `+` keeps its
    // statistics-less planner on those indexes: it would otherwise take the owner's
    // index, or the packing index for a `num_nodes` range, and sort every candidate.
    b.push("SELECT id, num_nodes, node_packing_count FROM (");
    for (i, state) in states.iter().enumerate() {
        if i > 0 {
            b.push(" UNION ALL ");
        }
        b.push(
            "SELECT * FROM (SELECT jobs.id, jobs.num_nodes, jobs.node_packing_count, \
             jobs.wall_time_min FROM jobs ",
        );
        // Named outright (the long-large-first order, rarely configured, has no index
        // of its own and reads by id): SQLite plans without statistics unless someone
        // ran ANALYZE, and with them it may scan the whole table for a state it
        // believes common.
        b.push(match (by_id, spec.sort_by.as_deref()) {
            (false, Some("long_large_first")) | (true, _) => "INDEXED BY jobs_acquire_idx",
            (false, _) => "INDEXED BY jobs_acquire_packing_idx",
        });
        b.push(" WHERE jobs.site_id = ");
        b.push_bind(site_id);
        b.push(" AND +jobs.owner_id = ").push_bind(owner);
        b.push(" AND jobs.session_id IS NULL AND jobs.state = ")
            .push_bind(state.as_str());
        push_tag_filters(b, "jobs.tags", &tags);
        if !spec.app_ids.is_empty() {
            b.push(" AND jobs.app_id IN (SELECT value FROM json_each(")
                .push_bind(ids_json(&spec.app_ids))
                .push("))");
        }
        if let Some(w) = spec.max_wall_time_min.filter(|&w| w != 0) {
            b.push(" AND +jobs.wall_time_min <= ").push_bind(w);
        }
        if let Some(n) = spec.max_nodes_per_job.filter(|&n| n != 0) {
            b.push(if by_id {
                " AND +jobs.num_nodes <= "
            } else {
                " AND jobs.num_nodes <= "
            })
            .push_bind(n);
        }
        if spec.serial_only {
            b.push(" AND +jobs.num_nodes = 1 AND +jobs.ranks_per_node = 1");
        }
        b.push(format!(" ORDER BY {order} LIMIT "))
            .push_bind(spec.max_num_jobs)
            .push(")");
    }
    b.push(format!(") ORDER BY {order} LIMIT "))
        .push_bind(spec.max_num_jobs);
}
