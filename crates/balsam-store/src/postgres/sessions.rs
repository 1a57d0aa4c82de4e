//! Sessions on PostgreSQL: written once in [`crate::shared::sessions`] but for the
//! acquire, one statement whose candidates are locked with `FOR UPDATE SKIP LOCKED`, so
//! concurrent launchers never take the same job.
//!
//! Repetition note: this file and its twin in the other backend have the same skeleton on
//! purpose; the statements differ in SQL and bound types, and what is the same is in
//! `shared/`.

use super::job_queries::{JobRow, JOB_COLUMNS};
use balsam_types::JobState;
use sqlx::Postgres;

crate::shared::sessions::session_store!(super::PostgresStore, sqlx::Postgres);

#[async_trait::async_trait]
impl AcquireSql for Postgres {
    async fn acquire(
        conn: &mut sqlx::PgConnection,
        owner: UserId,
        id: Id,
        spec: &SessionAcquire,
        now: DateTime<Utc>,
    ) -> Result<(Session, Vec<Job>), StoreError> {
        // The ownership check and the heartbeat in one statement (it locks the session).
        let updated: Option<SessionRow> = sqlx::query_as(
            "UPDATE sessions x SET heartbeat = $1 FROM sites s \
             WHERE x.id = $2 AND s.id = x.site_id AND s.owner_id = $3 \
             RETURNING x.id, x.site_id, x.batch_job_id, x.heartbeat",
        )
        .bind(now.naive_utc())
        .bind(id)
        .bind(owner)
        .fetch_optional(&mut *conn)
        .await?;
        let updated = session(updated.ok_or(StoreError::NotFound)?);
        if spec.states.is_empty() || spec.max_num_jobs <= 0 {
            return Ok((updated, Vec::new()));
        }
        // The branches' indexes give the acquire orders; without statistics on a small
        // table the planner would rather sort "a few" candidates of the by-id index.
        sqlx::query("SET LOCAL enable_sort = off")
            .execute(&mut *conn)
            .await?;
        let mut b = QueryBuilder::<Postgres>::new("");
        push_acquire(&mut b, owner, &updated, spec, now);
        let mut acquired: Vec<AcquiredRow> = b.build_query_as().fetch_all(&mut *conn).await?;
        acquired.sort_by_key(|r| r.rn);
        let jobs = acquired.into_iter().map(|r| Job::from(r.job)).collect();
        Ok((updated, jobs))
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
        Postgres::push_tag_filters(b, "jobs.tags", &tags);
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
        .push_bind(now.naive_utc())
        .push(" FROM pick WHERE jobs.id = pick.id");
    if let Some(max) = spec.max_aggregate_nodes {
        b.push(" AND pick.total <= ").push_bind(max);
    }
    b.push(format!(" RETURNING pick.rn, {JOB_COLUMNS}"));
}
