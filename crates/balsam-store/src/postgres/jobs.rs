//! Jobs on PostgreSQL: the lifecycle primitives (patches as a JSON document expanded with
//! `jsonb_array_elements`, inserts as typed arrays, ids bound as arrays, targets locked
//! `FOR UPDATE` in id order)
//! and the job queries.

use super::transfers::{TransferRow, TRANSFER_RETURNING};
use super::PostgresStore;
use crate::jobs::{JobStore, JobUpdate};
use crate::lifecycle::{
    self, AppInfo, ColumnKind, JobHead, JobTx, JobWrite, NewJob, NewLogEvent, NewTransfer,
    TransferHead,
};
use crate::shared::counts::answered_by_state_counts;
use crate::StoreError;
use balsam_types::job::JobOrdering;
use balsam_types::{
    Id, Job, JobCreate, JobQuery, JobState, LogEvent, LoggedEvent, Outbox, Page, Paginated,
    Session, SiteStateCounts, TransferItem, UserId,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, QueryBuilder};

pub(crate) const JOB_COLUMNS: &str = "jobs.id, jobs.workdir, jobs.tags, jobs.app_id, \
    jobs.session_id, jobs.serialized_parameters, jobs.serialized_return_value, \
    jobs.serialized_exception, jobs.batch_job_id, jobs.state, jobs.last_update, jobs.data, \
    jobs.return_code::int8 AS return_code, jobs.pending_file_cleanup, jobs.parent_ids, \
    jobs.num_nodes::int8 AS num_nodes, jobs.ranks_per_node::int8 AS ranks_per_node, \
    jobs.threads_per_rank::int8 AS threads_per_rank, jobs.threads_per_core::int8 AS threads_per_core, \
    jobs.gpus_per_rank, jobs.node_packing_count::int8 AS node_packing_count, \
    jobs.wall_time_min::int8 AS wall_time_min, jobs.launch_params";

/// The owner's per-Site job counts by state (`GET /jobs/state-counts`, and the
/// `state_counts` change), summed over the counter shards, Sites without jobs left out.
const STATE_COUNTS_SQL: &str = "SELECT c.site_id, c.state::text, sum(c.count)::int8 \
     FROM job_state_counts c JOIN sites s ON s.id = c.site_id WHERE s.owner_id = $1 \
     GROUP BY c.site_id, c.state HAVING sum(c.count) > 0 ORDER BY c.site_id, c.state";

#[derive(sqlx::FromRow)]
pub(crate) struct JobRow {
    id: i64,
    workdir: String,
    tags: Json<Map<String, Value>>,
    app_id: i64,
    session_id: Option<i64>,
    serialized_parameters: String,
    serialized_return_value: String,
    serialized_exception: String,
    batch_job_id: Option<i64>,
    state: String,
    last_update: NaiveDateTime,
    data: Json<Map<String, Value>>,
    return_code: Option<i64>,
    pending_file_cleanup: bool,
    parent_ids: Json<Vec<i64>>,
    num_nodes: i64,
    ranks_per_node: i64,
    threads_per_rank: i64,
    threads_per_core: i64,
    gpus_per_rank: f64,
    node_packing_count: i64,
    wall_time_min: i64,
    launch_params: Json<Map<String, Value>>,
}

impl From<JobRow> for Job {
    fn from(r: JobRow) -> Self {
        Job {
            id: r.id,
            workdir: r.workdir,
            tags: r.tags.0,
            app_id: r.app_id,
            session_id: r.session_id,
            serialized_parameters: r.serialized_parameters,
            serialized_return_value: r.serialized_return_value,
            serialized_exception: r.serialized_exception,
            batch_job_id: r.batch_job_id,
            state: JobState::parse(&r.state).unwrap_or(JobState::Created),
            last_update: r.last_update.and_utc(),
            data: r.data.0,
            return_code: r.return_code,
            pending_file_cleanup: r.pending_file_cleanup,
            parent_ids: r.parent_ids.0,
            num_nodes: r.num_nodes,
            ranks_per_node: r.ranks_per_node,
            threads_per_rank: r.threads_per_rank,
            threads_per_core: r.threads_per_core,
            gpus_per_rank: r.gpus_per_rank,
            node_packing_count: r.node_packing_count,
            wall_time_min: r.wall_time_min,
            launch_params: r.launch_params.0,
        }
    }
}

/// ISO text that `::timestamp` parses back to the same microsecond.
pub(crate) fn pg_timestamp(t: &DateTime<Utc>) -> Value {
    Value::String(t.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
}

/// The targets of a bulk update, locked in id order. `owner_id + 0`: with `owner_id = $1`
/// and no statistics PostgreSQL read the owner's whole range of `jobs_owner_id_idx` and
/// filtered the 1 000 ids (450 ms on a 1M-job owner) instead of probing the primary key
/// (1.2 ms); write transactions run with `enable_seqscan = off` (`WRITE_BEGIN`).
pub(crate) const JOB_HEADS_SQL: &str = "SELECT id, state, session_id FROM jobs \
     WHERE id = ANY($2) AND owner_id + 0 = $1 ORDER BY id FOR UPDATE";

/// The states of a bulk create's parents (the same plan).
pub(crate) const JOB_STATES_SQL: &str =
    "SELECT id, state FROM jobs WHERE id = ANY($2) AND owner_id + 0 = $1";

/// `insert_jobs`' bound arrays, one per column.
struct InsertColumns<'a> {
    id: Vec<Id>,
    site_id: Vec<Id>,
    app_id: Vec<Id>,
    workdir: Vec<&'a str>,
    tags: Vec<Json<&'a Map<String, Value>>>,
    serialized_parameters: Vec<&'a str>,
    state: Vec<&'static str>,
    data: Vec<Json<&'a Map<String, Value>>>,
    return_code: Vec<Option<i64>>,
    parent_ids: Vec<Json<&'a Vec<Id>>>,
    num_nodes: Vec<i64>,
    ranks_per_node: Vec<i64>,
    threads_per_rank: Vec<i64>,
    threads_per_core: Vec<i64>,
    launch_params: Vec<Json<&'a Map<String, Value>>>,
    gpus_per_rank: Vec<f64>,
    node_packing_count: Vec<i64>,
    wall_time_min: Vec<i64>,
}

impl InsertColumns<'_> {
    fn with_capacity(n: usize) -> Self {
        Self {
            id: Vec::with_capacity(n),
            site_id: Vec::with_capacity(n),
            app_id: Vec::with_capacity(n),
            workdir: Vec::with_capacity(n),
            tags: Vec::with_capacity(n),
            serialized_parameters: Vec::with_capacity(n),
            state: Vec::with_capacity(n),
            data: Vec::with_capacity(n),
            return_code: Vec::with_capacity(n),
            parent_ids: Vec::with_capacity(n),
            num_nodes: Vec::with_capacity(n),
            ranks_per_node: Vec::with_capacity(n),
            threads_per_rank: Vec::with_capacity(n),
            threads_per_core: Vec::with_capacity(n),
            launch_params: Vec::with_capacity(n),
            gpus_per_rank: Vec::with_capacity(n),
            node_packing_count: Vec::with_capacity(n),
            wall_time_min: Vec::with_capacity(n),
        }
    }
}

/// `key:value` containment on a jsonb column (GIN-indexed for jobs.tags).
pub(crate) fn push_tag_filters(
    b: &mut QueryBuilder<'_, Postgres>,
    column: &str,
    tags: &[(String, String)],
) {
    if tags.is_empty() {
        return;
    }
    let object: Map<String, Value> = tags
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    b.push(format!(" AND {column} @> "))
        .push_bind(Json(Value::Object(object)));
}

pub(crate) fn push_job_filters(b: &mut QueryBuilder<'_, Postgres>, owner: UserId, q: &JobQuery) {
    // With ids listed, `+ 0` keeps the planner off the owner-led indexes: without
    // statistics it would read every job of the owner instead of looking up each id.
    // With only a tag filter besides, the same: the planner ANDed the whole owner range of
    // `jobs_owner_id_idx` with the GIN index's matches (a tag on 1 000 of a million jobs:
    // 44 ms, 3.6 ms from the GIN alone; a tag on half of them: 321 ms vs 405 ms).
    let tags_only = !q.tags.is_empty()
        && q.site_ids.is_empty()
        && q.states.is_empty()
        && q.state_ne.is_none()
        && q.app_id.is_none_or(|a| a == 0);
    b.push(if q.ids.is_empty() && !tags_only {
        " WHERE jobs.owner_id = "
    } else {
        " WHERE jobs.owner_id + 0 = "
    })
    .push_bind(owner);
    if !q.ids.is_empty() {
        b.push(" AND jobs.id = ANY(")
            .push_bind(q.ids.clone())
            .push(")");
    }
    if !q.parent_ids.is_empty() {
        b.push(" AND jobs.id IN (SELECT job_id FROM job_parents WHERE parent_id = ANY(")
            .push_bind(q.parent_ids.clone())
            .push("))");
    }
    if let Some(app_id) = q.app_id.filter(|&a| a != 0) {
        b.push(" AND jobs.app_id = ").push_bind(app_id);
    }
    // One Site or one state is bound as `=`, not `= ANY(array)`: only an equality lets
    // the planner read `(…, state, id)` in id order instead of sorting every match.
    match q.site_ids.as_slice() {
        [] => {}
        [one] => {
            b.push(" AND jobs.site_id = ").push_bind(*one);
        }
        many => {
            b.push(" AND jobs.site_id = ANY(")
                .push_bind(many.to_vec())
                .push(")");
        }
    }
    if let Some(batch_job_id) = q.batch_job_id.filter(|&b| b != 0) {
        b.push(" AND jobs.batch_job_id = ").push_bind(batch_job_id);
    }
    if let Some(t) = &q.last_update_before {
        b.push(" AND jobs.last_update <= ").push_bind(t.naive_utc());
    }
    if let Some(t) = &q.last_update_after {
        b.push(" AND jobs.last_update >= ").push_bind(t.naive_utc());
    }
    if let Some(w) = &q.workdir_contains {
        b.push(" AND strpos(jobs.workdir, ")
            .push_bind(w.clone())
            .push(") > 0");
    }
    match q.states.as_slice() {
        [] => {}
        [one] => {
            b.push(" AND jobs.state = ").push_bind(one.as_str());
        }
        many => {
            let states: Vec<String> = many.iter().map(|s| s.as_str().to_owned()).collect();
            b.push(" AND jobs.state = ANY(").push_bind(states).push(")");
        }
    }
    if let Some(ne) = q.state_ne {
        b.push(" AND jobs.state <> ").push_bind(ne.as_str());
    }
    push_tag_filters(b, "jobs.tags", &q.tags);
    if q.pending_file_cleanup {
        b.push(" AND jobs.pending_file_cleanup");
    }
}

/// The count of a job list: from `job_state_counts` when its filters allow
/// (`shared::counts`), else `count(*)` over the matching jobs.
pub(crate) fn push_job_count(b: &mut QueryBuilder<'_, Postgres>, owner: UserId, q: &JobQuery) {
    if answered_by_state_counts(q) {
        b.push(
            "SELECT COALESCE(sum(c.count), 0)::int8 FROM job_state_counts c \
             JOIN sites s ON s.id = c.site_id WHERE s.owner_id = ",
        );
        b.push_bind(owner);
        if !q.site_ids.is_empty() {
            b.push(" AND c.site_id = ANY(")
                .push_bind(q.site_ids.clone())
                .push(")");
        }
        if !q.states.is_empty() {
            let states: Vec<String> = q.states.iter().map(|s| s.as_str().to_owned()).collect();
            b.push(" AND c.state = ANY(").push_bind(states).push(")");
        }
        if let Some(ne) = q.state_ne {
            b.push(" AND c.state <> ").push_bind(ne.as_str());
        }
    } else {
        b.push("SELECT count(*) FROM jobs");
        push_job_filters(b, owner, q);
    }
}

/// Whether a page's filters and order are ones an index reads in order (filters by
/// owner, Site, one state, `state__ne`; any ordering but `workdir`), so that the page
/// query runs with sorting priced out (`SET LOCAL enable_sort = off`). Without
/// statistics PostgreSQL guesses ~45 rows for "this owner's jobs" on a small table, and
/// then intersecting bitmaps and sorting "45" rows looks cheaper than reading 100 rows of
/// the ordered index: on a 50 000-job owner that sorted all 50 000 (18 ms, growing with
/// the table). Filters whose matches may be rare (tags, BatchJob, App, ids, …) keep the
/// planner's choice: there a bitmap and a small sort beat walking the owner's jobs.
pub(crate) fn page_reads_an_index_in_order(q: &JobQuery) -> bool {
    answered_by_state_counts(q)
        && q.states.len() <= 1
        && !matches!(q.ordering, Some((JobOrdering::Workdir, _)))
}

/// The planner settings for a page query (in its read transaction). A page never scans
/// the whole table: on a small table without statistics, 500 listed ids "cost" more than
/// reading every row. And sorting is priced out where an index gives the order.
pub(crate) fn page_settings(q: &JobQuery) -> &'static str {
    // One statement (`set_config(…, true)` is `SET LOCAL`): one round trip per page.
    if page_reads_an_index_in_order(q) {
        "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_sort', 'off', true)"
    } else {
        "SELECT set_config('enable_seqscan', 'off', true)"
    }
}

/// One page of a job list, in the requested order (the caller has pushed nothing).
pub(crate) fn push_job_page(
    b: &mut QueryBuilder<'_, Postgres>,
    owner: UserId,
    q: &JobQuery,
    page: Page,
) {
    b.push(format!("SELECT {JOB_COLUMNS} FROM jobs"));
    push_job_filters(b, owner, q);
    push_job_ordering(b, q);
    b.push(" LIMIT ")
        .push_bind(page.limit)
        .push(" OFFSET ")
        .push_bind(page.offset);
}

fn push_job_ordering(b: &mut QueryBuilder<'_, Postgres>, q: &JobQuery) {
    b.push(" ORDER BY ");
    b.push(lifecycle::job_order_by(q.ordering));
}

fn set_expression(column: &str, kind: ColumnKind) -> String {
    let value = match kind {
        ColumnKind::Text => format!("p->>'{column}'"),
        ColumnKind::Json => format!("p->'{column}'"),
        ColumnKind::Int => format!("(p->>'{column}')::int"),
        ColumnKind::BigInt => format!("(p->>'{column}')::bigint"),
        ColumnKind::Float => format!("(p->>'{column}')::float8"),
        ColumnKind::Bool => format!("(p->>'{column}')::boolean"),
    };
    format!("{column} = CASE WHEN p ? '{column}' THEN {value} ELSE jobs.{column} END")
}

#[async_trait::async_trait]
impl JobTx for PgConnection {
    async fn job_heads(&mut self, owner: UserId, ids: &[Id]) -> Result<Vec<JobHead>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Locked in id order, so concurrent bulk updates cannot deadlock on each other.
        let rows: Vec<(i64, String, Option<i64>)> = sqlx::query_as(JOB_HEADS_SQL)
            .bind(owner)
            .bind(ids)
            .fetch_all(&mut *self)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, state, session_id)| JobHead {
                id,
                state: JobState::parse(&state).unwrap_or(JobState::Created),
                session_id,
            })
            .collect())
    }

    async fn matching_job_ids(
        &mut self,
        owner: UserId,
        q: &JobQuery,
        limit: i64,
    ) -> Result<Vec<Id>, StoreError> {
        let mut b = QueryBuilder::new("SELECT jobs.id FROM jobs");
        push_job_filters(&mut b, owner, q);
        b.push(" ORDER BY jobs.id LIMIT ").push_bind(limit);
        Ok(b.build_query_scalar().fetch_all(&mut *self).await?)
    }

    async fn transfer_heads(&mut self, job_ids: &[Id]) -> Result<Vec<TransferHead>, StoreError> {
        if job_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(i64, bool, bool)> = sqlx::query_as(
            "SELECT job_id, direction = 'in', state = 'done' FROM transfer_items WHERE job_id = ANY($1)",
        )
        .bind(job_ids)
        .fetch_all(&mut *self)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(job_id, is_stage_in, done)| TransferHead {
                job_id,
                is_stage_in,
                done,
            })
            .collect())
    }

    async fn write_jobs(
        &mut self,
        writes: &[JobWrite],
        now: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let sets: Vec<String> = lifecycle::PATCH_COLUMNS
            .iter()
            .map(|(c, k)| set_expression(c, *k))
            .collect();
        let sql = format!(
            "UPDATE jobs SET {}, \
             session_id = CASE WHEN (p->>'__release')::boolean THEN NULL ELSE jobs.session_id END, \
             last_update = $2 \
             FROM jsonb_array_elements($1) AS p WHERE jobs.id = (p->>'__id')::bigint \
             RETURNING {JOB_COLUMNS}",
            sets.join(", ")
        );
        let rows: Vec<JobRow> = sqlx::query_as(&sql)
            .bind(Json(lifecycle::writes_document(writes)))
            .bind(now.naive_utc())
            .fetch_all(&mut *self)
            .await?;
        let ids: Vec<Id> = writes.iter().map(|w| w.id).collect();
        Ok(lifecycle::in_order_of(
            &ids,
            rows.into_iter().map(Job::from).collect(),
        ))
    }

    async fn insert_log_events(
        &mut self,
        owner: UserId,
        events: &[NewLogEvent],
    ) -> Result<Vec<LogEvent>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        // Typed arrays, not one JSON document: PostgreSQL decodes binary arrays instead of
        // parsing and walking a 1 000-object jsonb (docs/store-performance.md, cost table).
        // Only the id and the stored timestamp come back; the rest is what was sent.
        let n = events.len();
        let (mut job_ids, mut times, mut froms, mut tos, mut data) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for e in events {
            job_ids.push(e.job_id);
            times.push(e.timestamp.naive_utc());
            froms.push(e.from_state.as_str());
            tos.push(e.to_state.as_str());
            data.push(Json(&e.data));
        }
        let rows: Vec<(Id, Id, NaiveDateTime)> = sqlx::query_as(
            "INSERT INTO log_events (job_id, owner_id, timestamp, from_state, to_state, data) \
             SELECT x.j, $1, x.t, x.f, x.s, x.d \
             FROM unnest($2::int8[], $3::timestamp[], $4::text[], $5::text[], $6::jsonb[]) \
                AS x(j, t, f, s, d) \
             RETURNING id, job_id, timestamp",
        )
        .bind(owner)
        .bind(&job_ids)
        .bind(&times)
        .bind(&froms)
        .bind(&tos)
        .bind(&data)
        .fetch_all(&mut *self)
        .await?;
        Ok(lifecycle::logged_events(events, rows, |t| t.and_utc()))
    }

    async fn activate_stage_outs(
        &mut self,
        job_ids: &[Id],
    ) -> Result<Vec<TransferItem>, StoreError> {
        if job_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows: Vec<TransferRow> = sqlx::query_as(&format!(
            "UPDATE transfer_items SET state = 'pending' WHERE direction = 'out' \
             AND state = 'awaiting_job' AND job_id = ANY($1) RETURNING {TRANSFER_RETURNING}"
        ))
        .bind(job_ids)
        .fetch_all(&mut *self)
        .await?;
        rows.sort_by_key(|r| r.id);
        Ok(rows.into_iter().map(TransferItem::from).collect())
    }

    async fn releasable_children(
        &mut self,
        owner: UserId,
        parents: &[Id],
    ) -> Result<Vec<Id>, StoreError> {
        if parents.is_empty() {
            return Ok(Vec::new());
        }
        // Lock the waiting children first (in id order), then look at their parents in a
        // new statement, hence a new snapshot. Two transactions finishing the two parents
        // of one child at once would otherwise each see the other's parent unfinished and
        // neither release it; with the lock, the second waits for the first's commit and
        // then sees both parents finished.
        let waiting: Vec<Id> = sqlx::query_scalar(
            "SELECT c.id FROM jobs c WHERE c.owner_id = $1 AND c.state = 'AWAITING_PARENTS' \
             AND c.id IN (SELECT job_id FROM job_parents WHERE parent_id = ANY($2)) \
             ORDER BY c.id FOR UPDATE",
        )
        .bind(owner)
        .bind(parents)
        .fetch_all(&mut *self)
        .await?;
        if waiting.is_empty() {
            return Ok(Vec::new());
        }
        Ok(sqlx::query_scalar(
            "SELECT c.id FROM jobs c WHERE c.id = ANY($1) AND c.state = 'AWAITING_PARENTS' \
             AND NOT EXISTS (SELECT 1 FROM job_parents jp LEFT JOIN jobs p ON p.id = jp.parent_id \
                             WHERE jp.job_id = c.id AND (p.id IS NULL OR p.state <> 'JOB_FINISHED')) \
             ORDER BY c.id",
        )
        .bind(&waiting)
        .fetch_all(&mut *self)
        .await?)
    }

    async fn owned_batch_jobs(&mut self, owner: UserId, ids: &[Id]) -> Result<Vec<Id>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT b.id FROM batch_jobs b JOIN sites s ON s.id = b.site_id \
             WHERE s.owner_id = $1 AND b.id = ANY($2)",
        )
        .bind(owner)
        .bind(ids)
        .fetch_all(&mut *self)
        .await?)
    }

    async fn apps_for_create(
        &mut self,
        owner: UserId,
        ids: &[Id],
    ) -> Result<Vec<AppInfo>, StoreError> {
        type Row = (
            i64,
            i64,
            String,
            Json<Map<String, Value>>,
            Json<Map<String, Value>>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT a.id, a.site_id, a.name, a.transfers, s.transfer_locations \
             FROM apps a JOIN sites s ON s.id = a.site_id WHERE s.owner_id = $1 AND a.id = ANY($2)",
        )
        .bind(owner)
        .bind(ids)
        .fetch_all(&mut *self)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, site_id, name, transfers, locations)| AppInfo {
                id,
                site_id,
                name,
                transfers: transfers.0,
                transfer_locations: locations.0,
            })
            .collect())
    }

    async fn job_states(
        &mut self,
        owner: UserId,
        ids: &[Id],
    ) -> Result<Vec<(Id, JobState)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(i64, String)> = sqlx::query_as(JOB_STATES_SQL)
            .bind(owner)
            .bind(ids)
            .fetch_all(&mut *self)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, s)| (id, JobState::parse(&s).unwrap_or(JobState::Created)))
            .collect())
    }

    async fn allocate_job_ids(&mut self, n: usize) -> Result<Vec<Id>, StoreError> {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        Ok(sqlx::query_scalar(
            "SELECT nextval('jobs_id_seq') AS id FROM generate_series(1, $1) ORDER BY 1",
        )
        .bind(n)
        .fetch_all(&mut *self)
        .await?)
    }

    async fn insert_jobs(
        &mut self,
        owner: UserId,
        jobs: &[NewJob<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError> {
        // One typed array per column (binary-decoded, no 1 000-object jsonb to parse and
        // walk) and nothing read back: every column of a new job is known here.
        let n = jobs.len();
        let mut c = InsertColumns::with_capacity(n);
        for j in jobs {
            let s = j.spec;
            c.id.push(j.id);
            c.site_id.push(j.site_id);
            c.app_id.push(s.app_id);
            c.workdir.push(s.workdir.as_str());
            c.tags.push(Json(&s.tags));
            c.serialized_parameters
                .push(s.serialized_parameters.as_str());
            c.state.push(j.state.as_str());
            c.data.push(Json(&s.data));
            c.return_code.push(s.return_code);
            c.parent_ids.push(Json(&s.parent_ids));
            c.num_nodes.push(s.num_nodes);
            c.ranks_per_node.push(s.ranks_per_node);
            c.threads_per_rank.push(s.threads_per_rank);
            c.threads_per_core.push(s.threads_per_core);
            c.launch_params.push(Json(&s.launch_params));
            c.gpus_per_rank.push(s.gpus_per_rank);
            c.node_packing_count.push(s.node_packing_count);
            c.wall_time_min.push(s.wall_time_min);
        }
        sqlx::query(
            "INSERT INTO jobs (id, owner_id, site_id, app_id, workdir, tags, serialized_parameters, \
                state, last_update, data, return_code, parent_ids, num_nodes, ranks_per_node, \
                threads_per_rank, threads_per_core, launch_params, gpus_per_rank, \
                node_packing_count, wall_time_min) \
             SELECT id, $1, site_id, app_id, workdir, tags, sp, state, $2, data, rc, pids, nn, rpn, \
                tpr, tpc, lp, gpr, npc, wtm \
             FROM unnest($3::int8[], $4::int8[], $5::int8[], $6::text[], $7::jsonb[], $8::text[], \
                $9::text[], $10::jsonb[], $11::int8[], $12::jsonb[], $13::int8[], $14::int8[], \
                $15::int8[], $16::int8[], $17::jsonb[], $18::float8[], $19::int8[], $20::int8[]) \
                AS x(id, site_id, app_id, workdir, tags, sp, state, data, rc, pids, nn, rpn, tpr, \
                     tpc, lp, gpr, npc, wtm)",
        )
        .bind(owner)
        .bind(now.naive_utc())
        .bind(&c.id)
        .bind(&c.site_id)
        .bind(&c.app_id)
        .bind(&c.workdir)
        .bind(&c.tags)
        .bind(&c.serialized_parameters)
        .bind(&c.state)
        .bind(&c.data)
        .bind(&c.return_code)
        .bind(&c.parent_ids)
        .bind(&c.num_nodes)
        .bind(&c.ranks_per_node)
        .bind(&c.threads_per_rank)
        .bind(&c.threads_per_core)
        .bind(&c.launch_params)
        .bind(&c.gpus_per_rank)
        .bind(&c.node_packing_count)
        .bind(&c.wall_time_min)
        .execute(&mut *self)
        .await?;
        Ok(jobs.iter().map(|j| lifecycle::new_job(j, now)).collect())
    }

    async fn insert_job_parents(&mut self, pairs: &[(Id, Id)]) -> Result<(), StoreError> {
        if pairs.is_empty() {
            return Ok(());
        }
        let (children, parents): (Vec<Id>, Vec<Id>) = pairs.iter().copied().unzip();
        sqlx::query("INSERT INTO job_parents (job_id, parent_id) SELECT * FROM unnest($1::bigint[], $2::bigint[])")
            .bind(children)
            .bind(parents)
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    async fn insert_transfers(
        &mut self,
        items: &[NewTransfer],
    ) -> Result<Vec<TransferItem>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows: Vec<TransferRow> = sqlx::query_as(&format!(
            "INSERT INTO transfer_items (job_id, direction, local_path, remote_path, recursive, \
                location_alias, state) \
             SELECT job_id, direction, local_path, remote_path, recursive, location_alias, state \
             FROM jsonb_to_recordset($1) AS x(job_id bigint, direction text, local_path text, \
                remote_path text, recursive boolean, location_alias text, state text) \
             RETURNING {TRANSFER_RETURNING}"
        ))
        .bind(Json(lifecycle::transfers_document(items)))
        .fetch_all(&mut *self)
        .await?;
        rows.sort_by_key(|r| r.id);
        Ok(rows.into_iter().map(TransferItem::from).collect())
    }

    async fn ids_where(&mut self, sql: &'static str, id: Id) -> Result<Vec<Id>, StoreError> {
        Ok(sqlx::query_scalar(sql)
            .bind(id)
            .fetch_all(&mut *self)
            .await?)
    }

    async fn execute_with_id(&mut self, sql: &'static str, id: Id) -> Result<u64, StoreError> {
        Ok(sqlx::query(sql)
            .bind(id)
            .execute(&mut *self)
            .await?
            .rows_affected())
    }

    async fn fetch_sessions(&mut self, ids: &[Id]) -> Result<Vec<Session>, StoreError> {
        super::sessions::fetch_sessions(self, ids).await
    }

    async fn dependent_ids(&mut self, job_ids: &[Id]) -> Result<(Vec<Id>, Vec<Id>), StoreError> {
        let transfers =
            sqlx::query_scalar("SELECT id FROM transfer_items WHERE job_id = ANY($1) ORDER BY id")
                .bind(job_ids)
                .fetch_all(&mut *self)
                .await?;
        let events =
            sqlx::query_scalar("SELECT id FROM log_events WHERE job_id = ANY($1) ORDER BY id")
                .bind(job_ids)
                .fetch_all(&mut *self)
                .await?;
        Ok((transfers, events))
    }

    async fn delete_job_rows(&mut self, ids: &[Id]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM jobs WHERE id = ANY($1)")
            .bind(ids)
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    async fn append_events(
        &mut self,
        owner: UserId,
        out: &Outbox,
        now: DateTime<Utc>,
    ) -> Result<Vec<LoggedEvent>, StoreError> {
        let with_counts = out.state_counts_changed();
        let n = out.len() as i64 + i64::from(with_counts);
        let last: i64 = sqlx::query_scalar(
            "INSERT INTO user_event_seq (user_id, seq) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET seq = user_event_seq.seq + EXCLUDED.seq RETURNING seq",
        )
        .bind(owner)
        .bind(n)
        .fetch_one(&mut *self)
        .await?;
        let first = last - n + 1;
        let mut payloads: Vec<&str> = out.payloads().iter().map(String::as_str).collect();
        let counts = if with_counts {
            let rows: Vec<(i64, String, i64)> = sqlx::query_as(STATE_COUNTS_SQL)
                .bind(owner)
                .fetch_all(&mut *self)
                .await?;
            Outbox::state_counts_payload(&lifecycle::group_counts(rows))
        } else {
            String::new()
        };
        if with_counts {
            payloads.push(&counts);
        }
        sqlx::query(
            "INSERT INTO event_log (user_id, seq, created_at, payload) \
             SELECT $1, $2 + ord - 1, $3, p FROM unnest($4::text[]) WITH ORDINALITY AS t(p, ord)",
        )
        .bind(owner)
        .bind(first)
        .bind(now.naive_utc())
        .bind(&payloads)
        .execute(&mut *self)
        .await?;
        Ok(payloads
            .iter()
            .zip(first..)
            .map(|(p, seq)| LoggedEvent {
                seq,
                payload: (*p).into(),
            })
            .collect())
    }

    async fn fetch_jobs(&mut self, ids: &[Id]) -> Result<Vec<Job>, StoreError> {
        let rows: Vec<JobRow> = sqlx::query_as(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE jobs.id = ANY($1)"
        ))
        .bind(ids)
        .fetch_all(&mut *self)
        .await?;
        Ok(lifecycle::in_order_of(
            ids,
            rows.into_iter().map(Job::from).collect(),
        ))
    }
}

#[async_trait::async_trait]
impl JobStore for PostgresStore {
    async fn create_jobs(&self, owner: UserId, jobs: &[JobCreate]) -> Result<Vec<Job>, StoreError> {
        let mut tx = self.write().await?;
        let mut out = Outbox::new();
        let now = balsam_types::time::now();
        let created = lifecycle::create_jobs(&mut *tx, owner, jobs, now, &mut out).await?;
        self.commit_with(tx, owner, out).await?;
        Ok(created)
    }

    async fn list_jobs(
        &self,
        owner: UserId,
        q: &JobQuery,
        page: Page,
    ) -> Result<Paginated<Job>, StoreError> {
        // The log head and the count in one statement (one snapshot). A count alone
        // (`limit=0`: the CLI's per-state counts, the Site agent's polls) is that one
        // round trip, with no transaction around it.
        let mut head =
            QueryBuilder::new("SELECT COALESCE((SELECT seq FROM user_event_seq WHERE user_id = ");
        head.push_bind(owner).push("), 0), (");
        push_job_count(&mut head, owner, q);
        head.push(")");
        if page.limit == 0 {
            let (seq, count): (i64, i64) =
                head.build_query_as().fetch_one(self.read_pool()).await?;
            return Ok(Paginated {
                count,
                results: Vec::new(),
                seq,
            });
        }
        let mut tx = self.read().await?;
        let (seq, count): (i64, i64) = head.build_query_as().fetch_one(&mut *tx).await?;
        let results: Vec<JobRow> = if page.offset >= count {
            Vec::new() // a count (`limit=0`), or a page past the end: no rows to read
        } else {
            sqlx::query(page_settings(q)).execute(&mut *tx).await?;
            let mut rows = QueryBuilder::new("");
            push_job_page(&mut rows, owner, q, page);
            rows.build_query_as().fetch_all(&mut *tx).await?
        };
        tx.commit().await?;
        Ok(Paginated {
            count,
            results: results.into_iter().map(Job::from).collect(),
            seq,
        })
    }

    async fn get_job(&self, owner: UserId, id: Id) -> Result<Job, StoreError> {
        let row: JobRow = sqlx::query_as(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE jobs.id = $1 AND jobs.owner_id = $2"
        ))
        .bind(id)
        .bind(owner)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.into())
    }

    async fn update_jobs(&self, owner: UserId, update: JobUpdate<'_>) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let mut out = Outbox::new();
        let now = balsam_types::time::now();
        let n = lifecycle::update_jobs(&mut *tx, owner, update, now, &mut out).await?;
        self.commit_with(tx, owner, out).await?;
        Ok(n)
    }

    async fn delete_jobs(&self, owner: UserId, q: &JobQuery) -> Result<u64, StoreError> {
        // Rows locked by a concurrent transaction are skipped, like upstream.
        let mut b = QueryBuilder::new("SELECT jobs.id FROM jobs");
        push_job_filters(&mut b, owner, q);
        b.push(" AND jobs.session_id IS NULL ORDER BY jobs.id FOR UPDATE SKIP LOCKED");
        let mut tx = self.write().await?;
        let ids: Vec<Id> = b.build_query_scalar().fetch_all(&mut *tx).await?;
        let mut out = Outbox::new();
        lifecycle::delete_jobs_by_ids(&mut *tx, &ids, &mut out).await?;
        self.commit_with(tx, owner, out).await?;
        Ok(ids.len() as u64)
    }

    async fn delete_job(&self, owner: UserId, id: Id) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let locked: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT session_id FROM jobs WHERE id = $1 AND owner_id = $2 FOR UPDATE",
        )
        .bind(id)
        .bind(owner)
        .fetch_optional(&mut *tx)
        .await?;
        match locked {
            None => return Err(StoreError::NotFound),
            Some(Some(_)) => {} // held by a Session: skipped silently, as upstream
            Some(None) => {
                let mut out = Outbox::new();
                lifecycle::delete_jobs_by_ids(&mut *tx, &[id], &mut out).await?;
                return self.commit_with(tx, owner, out).await;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn job_state_counts(&self, owner: UserId) -> Result<Vec<SiteStateCounts>, StoreError> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(STATE_COUNTS_SQL)
            .bind(owner)
            .fetch_all(&self.pool)
            .await?;
        Ok(lifecycle::group_counts(rows))
    }
}
