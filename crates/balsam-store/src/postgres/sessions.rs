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
        let path = if spec.filter_tags.is_empty() {
            Candidates::Walk
        } else {
            match tagged_path(conn, owner, &updated, spec).await? {
                None => return Ok((updated, Vec::new())), // no job carries the tags
                Some(Candidates::ByTag) => {
                    // Its candidates come unordered from the tags index: they are sorted.
                    sqlx::query("SET LOCAL enable_sort = on")
                        .execute(&mut *conn)
                        .await?;
                    Candidates::ByTag
                }
                Some(Candidates::Walk) => Candidates::Walk,
            }
        };
        let mut b = QueryBuilder::<Postgres>::new("");
        push_acquire(&mut b, owner, &updated, spec, now, path);
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
    path: Candidates,
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
             jobs.wall_time_min FROM jobs WHERE ",
        );
        push_unlocked_in_state(b, owner, session, *state, path);
        Postgres::push_tag_filters(b, "jobs.tags", &tags);
        if !spec.app_ids.is_empty() {
            let plain = if path == Candidates::ByTag {
                " + 0"
            } else {
                ""
            };
            b.push(format!(" AND jobs.app_id{plain} = ANY("))
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

/// How an acquire finds its candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Candidates {
    /// Each branch walks its acquire index in acquire order and checks the rest (tags, App,
    /// sizes) on the way: reads about `max_num_jobs` rows when most candidates qualify.
    Walk,
    /// Each branch reads the jobs carrying the `filter_tags` from the tags index
    /// (`jobs_tags_idx`) and sorts the candidates among them: for tags few waiting jobs
    /// carry, which the walk would look for among every candidate of the Site.
    ByTag,
}

/// Candidates the probe reads per requested state, in acquire order.
const PROBE_ROWS: i64 = 1_000;

/// What reading one job through the tags index costs against reading one candidate in
/// the walk (heap pages in no order against the candidates' pages in id order): 10 000
/// tagged jobs took 19 ms, 260 000 walked candidates 150–200 ms (1M-job table).
const BY_TAG_ROW_COST: i64 = 3;

/// How a tagged acquire finds its candidates; `None` when no job carries the tags. First
/// the counters (a few rows): how many of the owner's jobs carry the rarest filter tag
/// (`job_tag_counts`, any state), and how many jobs the Site has in the requested states
/// (`job_state_counts`, what a walk reads at most). Only when the tag is rare enough for
/// the tags index to read less, the probe ([`push_tag_probe`]) looks at the first
/// candidates in acquire order: the walk stays while it would be short.
async fn tagged_path(
    conn: &mut sqlx::PgConnection,
    owner: UserId,
    session: &Session,
    spec: &SessionAcquire,
) -> Result<Option<Candidates>, StoreError> {
    let tags = crate::shared::acquire::acquire_tags(spec);
    let states = crate::shared::acquire::acquire_states(spec);
    let mut b = QueryBuilder::<Postgres>::new("SELECT ");
    crate::shared::acquire::push_rarest_tag_count(&mut b, owner, &tags);
    b.push(", (SELECT COALESCE(sum(count), 0)::int8 FROM job_state_counts WHERE site_id = ")
        .push_bind(session.site_id);
    let names: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
    b.push(format!(" AND state IN ({}))", names.join(", ")));
    let (rarest, candidates): (i64, i64) = b.build_query_as().fetch_one(&mut *conn).await?;
    if rarest == 0 {
        return Ok(None);
    }
    if rarest.saturating_mul(BY_TAG_ROW_COST) >= candidates {
        return Ok(Some(Candidates::Walk));
    }
    let mut probe = QueryBuilder::<Postgres>::new("");
    push_tag_probe(&mut probe, owner, session, spec);
    let (examined, found): (i64, i64) = probe.build_query_as().fetch_one(&mut *conn).await?;
    Ok(Some(if walk_is_short(examined, found) {
        Candidates::Walk
    } else {
        Candidates::ByTag
    }))
}

/// Whether a walk stays short, from the probe: it saw every candidate, or one in twenty
/// carries the tags (about 20 rows read per job taken).
fn walk_is_short(examined: i64, found: i64) -> bool {
    examined < PROBE_ROWS || found * 20 >= examined
}

/// One acquire branch's conditions: the session's Site, the owner, unlocked, in `state`.
/// The walk's form lets the planner prove the partial acquire indexes' `WHERE`; by tag,
/// `+ 0` and `|| ''` keep every btree off the Site, owner and state (the state too, or
/// that predicate is proven and a partial index is read whole), so the tags index alone
/// finds the candidates.
fn push_unlocked_in_state(
    b: &mut QueryBuilder<'_, Postgres>,
    owner: UserId,
    session: &Session,
    state: JobState,
    path: Candidates,
) {
    let (plain, text) = match path {
        Candidates::ByTag => (" + 0", " || ''"),
        Candidates::Walk => ("", ""),
    };
    b.push(format!("jobs.site_id{plain} = "))
        .push_bind(session.site_id);
    b.push(format!(" AND jobs.owner_id{plain} = "))
        .push_bind(owner);
    // `state` is an enum's name: safe to inline, and it must be a literal (see above).
    b.push(format!(
        " AND jobs.session_id IS NULL AND jobs.state{text} = '{}'",
        state.as_str()
    ));
    if path == Candidates::Walk && INDEXED_ACQUIRE_STATES.contains(&state) {
        let list: Vec<String> = INDEXED_ACQUIRE_STATES
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        // Implied by the equality above; spelled out so the proof is trivial.
        b.push(format!(" AND jobs.state IN ({})", list.join(", ")));
    }
}

/// Of the first [`PROBE_ROWS`] candidates of each requested state (the walk's own index,
/// in order): how many were read, and how many carry the tags.
pub(crate) fn push_tag_probe(
    b: &mut QueryBuilder<'_, Postgres>,
    owner: UserId,
    session: &Session,
    spec: &SessionAcquire,
) {
    let tags = crate::shared::acquire::acquire_tags(spec);
    let states = crate::shared::acquire::acquire_states(spec);
    b.push("SELECT count(*)::int8, (count(*) FILTER (WHERE p.tags @> ")
        .push_bind(super::tags_object(&tags))
        .push("))::int8 FROM (");
    for (i, state) in states.iter().enumerate() {
        if i > 0 {
            b.push(" UNION ALL ");
        }
        b.push("(SELECT jobs.tags FROM jobs WHERE ");
        push_unlocked_in_state(b, owner, session, *state, Candidates::Walk);
        b.push(" ORDER BY jobs.id LIMIT ")
            .push_bind(PROBE_ROWS)
            .push(")");
    }
    b.push(") AS p");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_is_kept_while_it_stays_short() {
        // Few candidates: the walk reads them all anyway.
        assert!(walk_is_short(300, 0));
        // Dense enough: about 20 rows read per job taken.
        assert!(walk_is_short(1_000, 50));
        assert!(walk_is_short(2_000, 100));
        // Rare among many candidates.
        assert!(!walk_is_short(1_000, 3));
        assert!(!walk_is_short(2_000, 0));
    }
}
