//! Jobs on PostgreSQL: the columns, the row type and the SQL builders of job queries
//! (filters, counts, pages), shared by the JobStore, the lifecycle primitives, Sessions
//! and TransferItems.
//!
//! Repetition note: the filters are one `AND` clause per query field, in the same order
//! as the other backend's `job_queries.rs`, each spelled and bound as this dialect needs.

use crate::lifecycle::ColumnKind;
use crate::shared::counts::{answered_by_state_counts, one_tag_only, tags_only};
use crate::shared::jobs::JobSql;
use crate::shared::Dialect as _;
use balsam_types::job::JobOrdering;
use balsam_types::{JobQuery, Page, UserId};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{Postgres, QueryBuilder};

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
pub(super) const STATE_COUNTS_SQL: &str =
    "SELECT c.site_id, c.state::text, sum(c.count)::int8, sum(c.nodes)::float8 \
     FROM job_state_counts c JOIN sites s ON s.id = c.site_id WHERE s.owner_id = $1 \
     GROUP BY c.site_id, c.state HAVING sum(c.count) > 0 ORDER BY c.site_id, c.state";

crate::shared::jobs::job_row!(sqlx::Postgres);

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

pub(crate) fn push_job_filters(b: &mut QueryBuilder<'_, Postgres>, owner: UserId, q: &JobQuery) {
    push_filters_for(b, owner, q, false);
}

/// The filters of `q`; `walk`: for a page read by walking an owner-led index in order
/// ([`walk_pays`]), so the owner is bound as a key and the tag test is one no index
/// answers (the rows are filtered as they are walked).
fn push_filters_for(b: &mut QueryBuilder<'_, Postgres>, owner: UserId, q: &JobQuery, walk: bool) {
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
    b.push(if walk || (q.ids.is_empty() && !tags_only) {
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
    if walk {
        // `||` of an empty object: the same document, but not the indexed expression.
        Postgres::push_tag_filters(b, "(jobs.tags || '{}'::jsonb)", &q.tags);
    } else {
        Postgres::push_tag_filters(b, "jobs.tags", &q.tags);
    }
    if q.pending_file_cleanup {
        b.push(" AND jobs.pending_file_cleanup");
    }
}

/// The count of a job list: from `job_state_counts` when its filters allow
/// (`shared::counts`), from `job_tag_counts` for one tag alone, else `count(*)` over the
/// matching jobs.
pub(crate) fn push_job_count(b: &mut QueryBuilder<'_, Postgres>, owner: UserId, q: &JobQuery) {
    if let Some((key, value)) = one_tag_only(q) {
        b.push("SELECT COALESCE(sum(count), 0)::int8 FROM job_tag_counts WHERE owner_id = ")
            .push_bind(owner)
            .push(" AND key = ")
            .push_bind(key.to_owned())
            .push(" AND value = ")
            .push_bind(value.to_owned());
    } else if answered_by_state_counts(q) {
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

/// The `BEGIN` of a page's read transaction, with the page's planner settings in the same
/// round trip. A page never scans the whole table: on a small table without statistics,
/// 500 listed ids "cost" more than reading every row. And sorting is priced out where an
/// index gives the order. The count before the page runs under them too (it reads the
/// maintained counts, or counts through an index).
pub(crate) fn page_begin(q: &JobQuery) -> &'static str {
    if page_reads_an_index_in_order(q) {
        concat!(
            super::read_begin!(),
            "; SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off"
        )
    } else {
        concat!(super::read_begin!(), "; SET LOCAL enable_seqscan = off")
    }
}

/// Whether a tag-filtered page is cheaper read by walking the owner's jobs in the page's
/// order (`jobs_owner_id_idx`, `jobs_owner_last_update_idx`, `jobs_owner_state_idx`) and
/// testing each job's tags, than by looking every match up in the GIN index and sorting
/// them: a walk reads about `(offset + limit) × total / matches` jobs, the GIN path
/// `matches` (a tag on half of a million jobs: ~200 jobs against 500 000 and a sort,
/// 1.2 s). Only tags-only filters; rows read at random cost about 4 of a bitmap's.
pub(crate) fn walk_pays(q: &JobQuery, page: Page, matches: i64, total: i64) -> bool {
    let reach = (page.offset + page.limit) as f64;
    tags_only(q)
        && !matches!(q.ordering, Some((JobOrdering::Workdir, _)))
        && matches > 0
        && 4.0 * reach * (total as f64) < (matches as f64) * (matches as f64)
}

pub(crate) fn set_expression(column: &str, kind: ColumnKind) -> String {
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

impl JobSql for Postgres {
    const JOB_COLUMNS: &'static str = JOB_COLUMNS;
    const STATE_COUNTS: &'static str = STATE_COUNTS_SQL;
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
    const JOB_HEADS: &'static str = JOB_HEADS_SQL;
    const JOB_STATES: &'static str = JOB_STATES_SQL;
    type JobRow = JobRow;

    fn push_filters(b: &mut QueryBuilder<'_, Self>, owner: UserId, q: &JobQuery) {
        push_job_filters(b, owner, q);
    }

    fn push_count(b: &mut QueryBuilder<'_, Self>, owner: UserId, q: &JobQuery) {
        push_job_count(b, owner, q);
    }

    fn page_begin(q: &JobQuery) -> Option<&'static str> {
        Some(page_begin(q))
    }

    fn push_walk_filters(b: &mut QueryBuilder<'_, Self>, owner: UserId, q: &JobQuery) {
        push_filters_for(b, owner, q, true);
    }

    fn needs_owner_total(q: &JobQuery) -> bool {
        tags_only(q)
    }

    fn walk_pays(q: &JobQuery, page: Page, matches: i64, total: i64) -> Option<&'static str> {
        // The walk is the order's index read with a filter: sorting priced out, or without
        // statistics the planner sorts the owner's whole range it guesses is small.
        walk_pays(q, page, matches, total).then_some("SET LOCAL enable_sort = off")
    }
}
