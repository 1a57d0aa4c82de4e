//! Sessions on PostgreSQL: creation, heartbeats, acquire (candidates locked with
//! `FOR UPDATE SKIP LOCKED`, so concurrent launchers never take the same job), expiry.

use super::job_queries::{push_tag_filters, JobRow, JOB_COLUMNS};
use super::{head_seq, push_id_list, PostgresStore};
use crate::lifecycle;
use crate::shared::Backend as _;
use crate::{SessionStore, StoreError};
use balsam_types::{
    Id, Job, JobState, Outbox, Paginated, Session, SessionAcquire, SessionCreate, UserId,
};
use chrono::NaiveDateTime;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

const COLUMNS: &str = "x.id, x.site_id, x.batch_job_id, x.heartbeat";
type SessionRow = (i64, i64, Option<i64>, NaiveDateTime);

fn session(r: SessionRow) -> Session {
    Session {
        id: r.0,
        site_id: r.1,
        batch_job_id: r.2,
        heartbeat: r.3.and_utc(),
    }
}

/// Full Session rows by id (for change records).
pub(crate) async fn fetch_sessions(
    conn: &mut PgConnection,
    ids: &[Id],
) -> Result<Vec<Session>, StoreError> {
    let rows: Vec<SessionRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM sessions x WHERE x.id = ANY($1) ORDER BY x.id"
    ))
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(session).collect())
}

/// The owner's session `id`, or `NotFound`.
async fn owned_session(
    conn: &mut PgConnection,
    owner: UserId,
    id: Id,
) -> Result<Session, StoreError> {
    let row: Option<SessionRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM sessions x JOIN sites s ON s.id = x.site_id \
         WHERE x.id = $1 AND s.owner_id = $2 FOR UPDATE OF x"
    ))
    .bind(id)
    .bind(owner)
    .fetch_optional(conn)
    .await?;
    row.map(session).ok_or(StoreError::NotFound)
}

/// Sets the heartbeat and returns the updated session.
async fn beat(conn: &mut PgConnection, id: Id, now: DateTime<Utc>) -> Result<Session, StoreError> {
    let row: SessionRow = sqlx::query_as(
        "UPDATE sessions SET heartbeat = $1 WHERE id = $2 RETURNING id, site_id, batch_job_id, heartbeat",
    )
    .bind(naive(&now))
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(session(row))
}

#[async_trait::async_trait]
impl SessionStore for PostgresStore {
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
        .bind(naive(&balsam_types::time::now()))
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
        let mut b = QueryBuilder::<Postgres>::new(format!(
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
        // The ownership check and the heartbeat in one statement (it locks the session).
        let updated: Option<SessionRow> = sqlx::query_as(
            "UPDATE sessions x SET heartbeat = $1 FROM sites s \
             WHERE x.id = $2 AND s.id = x.site_id AND s.owner_id = $3 \
             RETURNING x.id, x.site_id, x.batch_job_id, x.heartbeat",
        )
        .bind(naive(&now))
        .bind(id)
        .bind(owner)
        .fetch_optional(&mut *tx)
        .await?;
        let updated = session(updated.ok_or(StoreError::NotFound)?);
        if spec.states.is_empty() || spec.max_num_jobs <= 0 {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        // The branches' indexes give the acquire orders; without statistics on a small
        // table the planner would rather sort "a few" candidates of the by-id index.
        sqlx::query("SET LOCAL enable_sort = off")
            .execute(&mut *tx)
            .await?;
        let mut b = QueryBuilder::<Postgres>::new("");
        push_acquire(&mut b, owner, &updated, spec, now);
        let mut acquired: Vec<AcquiredRow> = b.build_query_as().fetch_all(&mut *tx).await?;
        if acquired.is_empty() {
            // An idle acquire only refreshes the heartbeat: not worth an event per second.
            tx.commit().await?;
            return Ok(Vec::new());
        }
        acquired.sort_by_key(|r| r.rn);
        let jobs: Vec<Job> = acquired.into_iter().map(|r| Job::from(r.job)).collect();
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
        let mut b = QueryBuilder::<Postgres>::new(
            "SELECT s.owner_id, x.id FROM sessions x JOIN sites s ON s.id = x.site_id \
             LEFT JOIN batch_jobs b ON b.id = x.batch_job_id \
             WHERE (x.heartbeat <= ",
        );
        b.push_bind(naive(&stale_before))
            .push(" OR b.state = 'finished')");
        if let Some(owner) = owner {
            b.push(" AND s.owner_id = ").push_bind(owner);
        }
        b.push(" ORDER BY s.owner_id, x.id");
        let expired: Vec<(i64, i64)> = b.build_query_as().fetch_all(&self.pool).await?;
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

/// The states whose unlocked jobs `jobs_acquire_idx` and `jobs_acquire_packing_idx` hold
/// (their `WHERE`, migration 0005): the launchers' and the processing service's.
const INDEXED_ACQUIRE_STATES: [JobState; 6] = [
    JobState::StagedIn,
    JobState::Preprocessed,
    JobState::RestartReady,
    JobState::RunDone,
    JobState::RunError,
    JobState::RunTimeout,
];

#[derive(sqlx::FromRow)]
struct AcquiredRow {
    /// Position in acquire order.
    rn: i64,
    #[sqlx(flatten)]
    job: JobRow,
}

/// One statement that picks, locks, assigns and returns the acquired jobs.
///
/// Each requested state is its own branch, `state = '<literal>'` (a literal, so the
/// planner can prove the partial acquire indexes' `WHERE`; a state is one of a fixed set
/// of names, never user text), reading its index in acquire order and stopping after
/// `max_num_jobs` unlocked rows (`FOR UPDATE SKIP LOCKED`: concurrent launchers never take
/// the same job). The branches are merged in the same order and cut to `max_num_jobs`;
/// with `max_aggregate_nodes` a running sum keeps the prefix that fits (as
/// `balsam_types::session::acquire_prefix` does). Rows a branch locked but the cut dropped stay
/// locked only until this transaction commits, a few milliseconds.
pub(crate) fn push_acquire(
    b: &mut QueryBuilder<'_, Postgres>,
    owner: UserId,
    session: &Session,
    spec: &SessionAcquire,
    now: DateTime<Utc>,
) {
    let order = crate::shared::acquire::acquire_order(spec);
    let states = crate::shared::acquire::acquire_states(spec);
    let tags = crate::shared::acquire::acquire_tags(spec);
    b.push("WITH cand AS (SELECT * FROM (");
    for (i, state) in states.iter().enumerate() {
        if i > 0 {
            b.push(" UNION ALL ");
        }
        b.push(
            "SELECT * FROM (SELECT jobs.id, jobs.num_nodes, jobs.node_packing_count, \
             jobs.wall_time_min FROM jobs WHERE jobs.site_id = ",
        );
        b.push_bind(session.site_id);
        b.push(" AND jobs.owner_id = ").push_bind(owner);
        // `state` is an enum's name: safe to inline, and it must be a literal (see above).
        b.push(format!(
            " AND jobs.session_id IS NULL AND jobs.state = '{}'",
            state.as_str()
        ));
        if INDEXED_ACQUIRE_STATES.contains(state) {
            let list: Vec<String> = INDEXED_ACQUIRE_STATES
                .iter()
                .map(|s| format!("'{}'", s.as_str()))
                .collect();
            // Implied by the equality above; spelled out so the proof is trivial.
            b.push(format!(" AND jobs.state IN ({})", list.join(", ")));
        }
        push_tag_filters(b, "jobs.tags", &tags);
        if !spec.app_ids.is_empty() {
            b.push(" AND jobs.app_id = ANY(")
                .push_bind(spec.app_ids.clone())
                .push(")");
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
        b.push(format!(" ORDER BY {order} LIMIT "))
            .push_bind(spec.max_num_jobs)
            .push(format!(" FOR UPDATE SKIP LOCKED) b{i}"));
    }
    b.push(format!(") u ORDER BY {order} LIMIT "))
        .push_bind(spec.max_num_jobs)
        .push("), pick AS (SELECT id, row_number() OVER (ORDER BY ")
        .push(order)
        .push(") AS rn");
    if spec.max_aggregate_nodes.is_some() {
        b.push(format!(
            ", sum(num_nodes::float8 / greatest(node_packing_count, 1)::float8) \
             OVER (ORDER BY {order} ROWS UNBOUNDED PRECEDING) AS total"
        ));
    }
    b.push(" FROM cand) UPDATE jobs SET session_id = ")
        .push_bind(session.id)
        .push(", batch_job_id = COALESCE(")
        .push_bind(session.batch_job_id)
        .push(", jobs.batch_job_id), last_update = ")
        .push_bind(naive(&now))
        .push(" FROM pick WHERE jobs.id = pick.id");
    if let Some(max) = spec.max_aggregate_nodes {
        b.push(" AND pick.total <= ").push_bind(max);
    }
    b.push(format!(" RETURNING pick.rn, {JOB_COLUMNS}"));
}

fn naive(t: &DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc()
}
