//! Jobs on SQLite: the columns, the row type and the SQL builders of job queries
//! (filters, counts, pages), shared by the JobStore, the lifecycle primitives, Sessions
//! and TransferItems.
//!
//! Repetition note: the filters are one `AND` clause per query field, in the same order
//! as the other backend's `job_queries.rs`, each spelled and bound as this dialect needs.

use super::{ids_json, to_micros};
use crate::lifecycle::ColumnKind;
use crate::shared::counts::answered_by_state_counts;
use crate::shared::jobs::JobSql;
use crate::shared::push_id_list;
use crate::shared::Dialect as _;
use balsam_types::{JobQuery, UserId};
use sqlx::{QueryBuilder, Sqlite};

pub(crate) const JOB_COLUMNS: &str = "jobs.id, jobs.workdir, jobs.tags, jobs.app_id, \
    jobs.session_id, jobs.serialized_parameters, jobs.serialized_return_value, \
    jobs.serialized_exception, jobs.batch_job_id, jobs.state, jobs.last_update, jobs.data, \
    jobs.return_code, jobs.pending_file_cleanup, jobs.parent_ids, jobs.num_nodes, \
    jobs.ranks_per_node, jobs.threads_per_rank, jobs.threads_per_core, jobs.gpus_per_rank, \
    jobs.node_packing_count, jobs.wall_time_min, jobs.launch_params";

/// The owner's per-Site job counts by state (`GET /jobs/state-counts`, and the
/// `state_counts` change), summed over the counter shards, Sites without jobs left out.
pub(super) const STATE_COUNTS_SQL: &str =
    "SELECT c.site_id, c.state, sum(c.count), CAST(sum(c.nodes) AS REAL) \
     FROM job_state_counts c JOIN sites s ON s.id = c.site_id WHERE s.owner_id = $1 \
     GROUP BY c.site_id, c.state HAVING sum(c.count) > 0 ORDER BY c.site_id, c.state";

crate::shared::jobs::job_row!(sqlx::Sqlite);

pub(crate) fn push_job_filters(b: &mut QueryBuilder<'_, Sqlite>, owner: UserId, q: &JobQuery) {
    // With ids listed, the unary `+` keeps SQLite's planner off the owner-led indexes: it
    // has no statistics, guesses an owner has ~10 jobs, and would scan all of them (87 ms
    // for 500 ids in a million-job table) instead of looking up each id (5 ms).
    b.push(if q.ids.is_empty() {
        " WHERE jobs.owner_id = "
    } else {
        " WHERE +jobs.owner_id = "
    })
    .push_bind(owner);
    if !q.ids.is_empty() {
        b.push(" AND jobs.id IN (");
        push_id_list(b, &q.ids);
    }
    if !q.parent_ids.is_empty() {
        b.push(" AND jobs.id IN (SELECT job_id FROM job_parents WHERE parent_id IN (");
        push_id_list(b, &q.parent_ids);
        b.push(")");
    }
    if let Some(app_id) = q.app_id.filter(|&a| a != 0) {
        b.push(" AND jobs.app_id = ").push_bind(app_id);
    }
    if !q.site_ids.is_empty() {
        b.push(" AND jobs.site_id IN (");
        push_id_list(b, &q.site_ids);
    }
    if let Some(batch_job_id) = q.batch_job_id.filter(|&b| b != 0) {
        b.push(" AND jobs.batch_job_id = ").push_bind(batch_job_id);
    }
    if let Some(t) = &q.last_update_before {
        b.push(" AND jobs.last_update <= ").push_bind(to_micros(t));
    }
    if let Some(t) = &q.last_update_after {
        b.push(" AND jobs.last_update >= ").push_bind(to_micros(t));
    }
    if let Some(w) = &q.workdir_contains {
        b.push(" AND instr(jobs.workdir, ")
            .push_bind(w.clone())
            .push(") > 0");
    }
    if !q.states.is_empty() {
        b.push(" AND jobs.state IN (");
        let mut sep = b.separated(", ");
        for s in &q.states {
            sep.push_bind(s.as_str());
        }
        b.push(")");
    }
    if let Some(ne) = q.state_ne {
        b.push(" AND jobs.state <> ").push_bind(ne.as_str());
    }
    Sqlite::push_tag_filters(b, "jobs.tags", &q.tags);
    if q.pending_file_cleanup {
        b.push(" AND jobs.pending_file_cleanup = 1");
    }
}

/// The count of a job list: from `job_state_counts` when its filters allow
/// (`shared::counts`), from `job_tag_counts` for one tag alone, else `count(*)` over the
/// matching jobs.
pub(crate) fn push_job_count(b: &mut QueryBuilder<'_, Sqlite>, owner: UserId, q: &JobQuery) {
    if let Some((key, value)) = crate::shared::counts::one_tag_only(q) {
        b.push("SELECT COALESCE(sum(count), 0) FROM job_tag_counts WHERE owner_id = ")
            .push_bind(owner)
            .push(" AND key = ")
            .push_bind(key.to_owned())
            .push(" AND value = ")
            .push_bind(value.to_owned());
    } else if answered_by_state_counts(q) {
        b.push(
            "SELECT COALESCE(sum(c.count), 0) FROM job_state_counts c \
             JOIN sites s ON s.id = c.site_id WHERE s.owner_id = ",
        );
        b.push_bind(owner);
        if !q.site_ids.is_empty() {
            b.push(" AND c.site_id IN (SELECT value FROM json_each(")
                .push_bind(ids_json(&q.site_ids))
                .push("))");
        }
        if !q.states.is_empty() {
            let states: Vec<&str> = q.states.iter().map(|s| s.as_str()).collect();
            b.push(" AND c.state IN (SELECT value FROM json_each(")
                .push_bind(serde_json::to_string(&states).unwrap_or_else(|_| "[]".into()))
                .push("))");
        }
        if let Some(ne) = q.state_ne {
            b.push(" AND c.state <> ").push_bind(ne.as_str());
        }
    } else {
        b.push("SELECT count(*) FROM jobs");
        push_job_filters(b, owner, q);
    }
}

pub(crate) fn set_expression(column: &str, kind: ColumnKind) -> String {
    let present = format!("json_type(p.value, '$.{column}') IS NOT NULL");
    let value = match kind {
        ColumnKind::Json => format!("json(json_extract(p.value, '$.{column}'))"),
        _ => format!("json_extract(p.value, '$.{column}')"),
    };
    format!("{column} = CASE WHEN {present} THEN {value} ELSE jobs.{column} END")
}

impl JobSql for Sqlite {
    const JOB_COLUMNS: &'static str = JOB_COLUMNS;
    const STATE_COUNTS: &'static str = STATE_COUNTS_SQL;
    const SKIP_LOCKED: &'static str = "";
    const JOB_HEADS: &'static str = "SELECT id, state, session_id FROM jobs WHERE owner_id = $1 \
             AND id IN (SELECT value FROM json_each($2)) ORDER BY id";
    const JOB_STATES: &'static str =
        "SELECT id, state FROM jobs WHERE owner_id = $1 AND id IN (SELECT value FROM json_each($2))";
    type JobRow = JobRow;

    fn push_filters(b: &mut QueryBuilder<'_, Self>, owner: UserId, q: &JobQuery) {
        push_job_filters(b, owner, q);
    }

    fn push_count(b: &mut QueryBuilder<'_, Self>, owner: UserId, q: &JobQuery) {
        push_job_count(b, owner, q);
    }

    /// SQLite's plans are pinned by the queries themselves.
    fn page_begin(_q: &JobQuery) -> Option<&'static str> {
        None
    }
}
