//! Sessions on SQLite: creation, heartbeats, acquire (serialised by the single writer,
//! so two launchers can never take the same job), expiry.

use super::jobs::{push_tag_filters, JobRow, JOB_COLUMNS};
use super::{from_micros, push_id_list, to_micros, SqliteStore};
use crate::lifecycle;
use crate::{SessionStore, StoreError};
use balsam_types::{Id, Job, Session, SessionAcquire, SessionCreate, UserId};
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use std::collections::BTreeMap;

type SessionRow = (i64, i64, Option<i64>, i64);

fn session(r: SessionRow) -> Session {
    Session {
        id: r.0,
        site_id: r.1,
        batch_job_id: r.2,
        heartbeat: from_micros(r.3),
    }
}

/// The owner's session `id`: (site_id, batch_job_id), or `NotFound`.
async fn owned_session(
    conn: &mut SqliteConnection,
    owner: UserId,
    id: Id,
) -> Result<(Id, Option<Id>), StoreError> {
    sqlx::query_as(
        "SELECT x.site_id, x.batch_job_id FROM sessions x JOIN sites s ON s.id = x.site_id \
         WHERE x.id = $1 AND s.owner_id = $2",
    )
    .bind(id)
    .bind(owner)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Ends sessions: RUNNING jobs time out (per owner, through the state machine), then the
/// rows go, and the foreign key unlocks every other job they held.
async fn end_sessions(
    conn: &mut SqliteConnection,
    ids: &[Id],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids_json = serde_json::to_string(ids).unwrap_or_default();
    let running: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT owner_id, id FROM jobs WHERE state = 'RUNNING' \
         AND session_id IN (SELECT value FROM json_each($1)) ORDER BY owner_id, id",
    )
    .bind(&ids_json)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_owner: BTreeMap<UserId, Vec<Id>> = BTreeMap::new();
    for (owner, job) in running {
        by_owner.entry(owner).or_default().push(job);
    }
    for (owner, jobs) in by_owner {
        lifecycle::time_out_running(&mut *conn, owner, &jobs, now).await?;
    }
    sqlx::query("DELETE FROM sessions WHERE id IN (SELECT value FROM json_each($1))")
        .bind(&ids_json)
        .execute(&mut *conn)
        .await?;
    Ok(())
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
        tx.commit().await?;
        Ok(session(row))
    }

    async fn list_sessions(&self, owner: UserId, ids: &[Id]) -> Result<Vec<Session>, StoreError> {
        let mut b = QueryBuilder::<Sqlite>::new(
            "SELECT x.id, x.site_id, x.batch_job_id, x.heartbeat FROM sessions x \
             JOIN sites s ON s.id = x.site_id WHERE s.owner_id = ",
        );
        b.push_bind(owner);
        if !ids.is_empty() {
            b.push(" AND x.id IN (");
            push_id_list(&mut b, ids);
        }
        b.push(" ORDER BY x.id");
        let rows: Vec<SessionRow> = b.build_query_as().fetch_all(&self.reader).await?;
        Ok(rows.into_iter().map(session).collect())
    }

    async fn tick_session(&self, owner: UserId, id: Id) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        owned_session(&mut tx, owner, id).await?;
        sqlx::query("UPDATE sessions SET heartbeat = $1 WHERE id = $2")
            .bind(to_micros(&balsam_types::time::now()))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn acquire_jobs(
        &self,
        owner: UserId,
        id: Id,
        spec: &SessionAcquire,
    ) -> Result<Vec<Job>, StoreError> {
        let now = balsam_types::time::now();
        let mut tx = self.write().await?;
        let (site_id, batch_job_id) = owned_session(&mut tx, owner, id).await?;
        sqlx::query("UPDATE sessions SET heartbeat = $1 WHERE id = $2")
            .bind(to_micros(&now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let mut b = QueryBuilder::<Sqlite>::new(
            "SELECT jobs.id, jobs.num_nodes, jobs.node_packing_count FROM jobs WHERE jobs.site_id = ",
        );
        b.push_bind(site_id);
        b.push(" AND jobs.owner_id = ").push_bind(owner);
        b.push(" AND jobs.session_id IS NULL AND jobs.state IN (");
        {
            let mut sep = b.separated(", ");
            for s in &spec.states {
                sep.push_bind(s.as_str());
            }
        }
        b.push(")");
        if spec.states.is_empty() {
            return Ok(Vec::new());
        }
        let tags: Vec<(String, String)> = spec
            .filter_tags
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
        push_tag_filters(&mut b, "jobs.tags", &tags);
        if !spec.app_ids.is_empty() {
            b.push(" AND jobs.app_id IN (");
            push_id_list(&mut b, &spec.app_ids);
        }
        if let Some(w) = spec.max_wall_time_min.filter(|&w| w != 0) {
            b.push(" AND jobs.wall_time_min <= ").push_bind(w);
        }
        if let Some(n) = spec.max_nodes_per_job.filter(|&n| n != 0) {
            b.push(" AND jobs.num_nodes <= ").push_bind(n);
        }
        if spec.serial_only {
            b.push(" AND jobs.num_nodes = 1 AND jobs.ranks_per_node = 1");
        }
        b.push(match (spec.max_aggregate_nodes.is_some(), spec.sort_by.as_deref()) {
            (false, _) => " ORDER BY jobs.id",
            (true, Some("long_large_first")) => {
                " ORDER BY jobs.wall_time_min DESC, jobs.num_nodes DESC, jobs.node_packing_count DESC, jobs.id"
            }
            (true, _) => {
                " ORDER BY jobs.num_nodes ASC, jobs.node_packing_count DESC, jobs.wall_time_min DESC, jobs.id"
            }
        });
        b.push(" LIMIT ").push_bind(spec.max_num_jobs);
        let candidates: Vec<(i64, i64, i64)> = b.build_query_as().fetch_all(&mut *tx).await?;
        let ids = lifecycle::acquire_prefix(&candidates, spec.max_aggregate_nodes);
        if ids.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let ids_json = serde_json::to_string(&ids).unwrap_or_default();
        sqlx::query(
            "UPDATE jobs SET session_id = $1, batch_job_id = COALESCE($2, batch_job_id), last_update = $3 \
             WHERE id IN (SELECT value FROM json_each($4))",
        )
        .bind(id)
        .bind(batch_job_id)
        .bind(to_micros(&now))
        .bind(&ids_json)
        .execute(&mut *tx)
        .await?;
        let rows: Vec<JobRow> = sqlx::query_as(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE jobs.id IN (SELECT value FROM json_each($1))"
        ))
        .bind(&ids_json)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(lifecycle::in_order_of(
            &ids,
            rows.into_iter().map(Job::from).collect(),
        ))
    }

    async fn delete_session(&self, owner: UserId, id: Id) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        owned_session(&mut tx, owner, id).await?;
        end_sessions(&mut tx, &[id], balsam_types::time::now()).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn sweep_sessions(
        &self,
        owner: Option<UserId>,
        stale_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let mut b = QueryBuilder::<Sqlite>::new(
            "SELECT x.id FROM sessions x JOIN sites s ON s.id = x.site_id \
             LEFT JOIN batch_jobs b ON b.id = x.batch_job_id \
             WHERE (x.heartbeat <= ",
        );
        b.push_bind(to_micros(&stale_before))
            .push(" OR b.state = 'finished')");
        if let Some(owner) = owner {
            b.push(" AND s.owner_id = ").push_bind(owner);
        }
        let expired: Vec<i64> = b.build_query_scalar().fetch_all(&mut *tx).await?;
        end_sessions(&mut tx, &expired, balsam_types::time::now()).await?;
        tx.commit().await?;
        Ok(expired.len() as u64)
    }
}
