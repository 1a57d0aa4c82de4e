//! Sessions on SQLite: written once in [`crate::shared::sessions`] but for the acquire,
//! serialised by the single writer, so two launchers can never take the same job.
//!
//! Repetition note: this file and its twin in the other backend have the same skeleton on
//! purpose; the statements differ in SQL and bound types, and what is the same is in
//! `shared/`.

use super::job_queries::{JobRow, JOB_COLUMNS};
use super::{ids_json, to_micros};
use sqlx::Sqlite;

crate::shared::sessions::session_store!(super::SqliteStore, sqlx::Sqlite);

#[async_trait::async_trait]
impl AcquireSql for Sqlite {
    async fn acquire(
        conn: &mut sqlx::SqliteConnection,
        owner: UserId,
        id: Id,
        spec: &SessionAcquire,
        now: DateTime<Utc>,
    ) -> Result<(Session, Vec<Job>), StoreError> {
        let current = owned_session(&mut *conn, owner, id).await?;
        let updated = beat(&mut *conn, id, now).await?;
        if spec.states.is_empty() {
            return Ok((updated, Vec::new()));
        }
        if !spec.filter_tags.is_empty() {
            // A filter tag no job carries: nothing to walk the candidates for.
            let tags = crate::shared::acquire::acquire_tags(spec);
            let mut b = QueryBuilder::<Sqlite>::new("SELECT ");
            crate::shared::acquire::push_rarest_tag_count(&mut b, owner, &tags);
            let rarest: i64 = b.build_query_scalar().fetch_one(&mut *conn).await?;
            if rarest == 0 {
                return Ok((updated, Vec::new()));
            }
        }
        let mut b = QueryBuilder::<Sqlite>::new("");
        push_acquire_candidates(&mut b, owner, current.site_id, spec);
        let candidates: Vec<(i64, i64, i64)> = b.build_query_as().fetch_all(&mut *conn).await?;
        let ids = balsam_types::session::acquire_prefix(&candidates, spec.max_aggregate_nodes);
        if ids.is_empty() {
            return Ok((updated, Vec::new()));
        }
        let rows: Vec<JobRow> = sqlx::query_as(&format!(
            "UPDATE jobs SET session_id = $1, batch_job_id = COALESCE($2, batch_job_id), \
             last_update = $3 WHERE id IN (SELECT value FROM json_each($4)) RETURNING {JOB_COLUMNS}"
        ))
        .bind(id)
        .bind(current.batch_job_id)
        .bind(to_micros(&now))
        .bind(ids_json(&ids))
        .fetch_all(&mut *conn)
        .await?;
        let jobs =
            crate::shared::jobs::in_order_of(&ids, rows.into_iter().map(Job::from).collect());
        Ok((updated, jobs))
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
        Sqlite::push_tag_filters(b, "jobs.tags", &tags);
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
