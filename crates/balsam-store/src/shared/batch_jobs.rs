//! BatchJobs on both backends: [`BatchJobStore`](crate::BatchJobStore) written once; what
//! each dialect spells differently is [`BatchJobSql`], implemented in the backend's
//! `batch_jobs.rs`.
//!
//! Repetition note: each resource's listing, read, create and delete have the same shape on
//! purpose; the shared steps are `paged!`, `get_owned!`, `lock_owned!` and `commit_one`
//! (`shared/mod.rs`), and what repeats is each call with that resource's SQL.

use super::Dialect;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// The BatchJob SQL each dialect writes its own way.
pub(crate) trait BatchJobSql: Dialect {
    /// The columns the row reads, qualified by `b.` (PostgreSQL casts the `int4` ones).
    const COLUMNS: &'static str;
    /// Applies a JSON array of patches (`$1`; objects with `__id` and the keys to set,
    /// as `lifecycle::batch_job_writes` builds them).
    const PATCH: &'static str;
    /// A timestamp as the patch document carries it.
    fn time_value(t: &DateTime<Utc>) -> Value;
}

/// `impl BatchJobStore for $store`, where `$db` is the store's `sqlx::Database`.
macro_rules! batch_job_store {
    ($store:ty, $db:ty) => {
        use crate::lifecycle;
        use crate::shared::batch_jobs::BatchJobSql;
        use crate::shared::{push_id_list, Backend as _, Dialect};
        use crate::{BatchJobStore, StoreError};
        use balsam_types::{
            BatchJob, BatchJobCreate, BatchJobPatch, BatchJobQuery, Id, Outbox, Page, Paginated,
            UserId,
        };
        use serde_json::{Map, Value};
        use sqlx::types::Json;
        use sqlx::QueryBuilder;
        use std::collections::HashMap;

        type Db = $db;

        #[derive(sqlx::FromRow)]
        struct BatchJobRow {
            id: i64,
            site_id: i64,
            scheduler_id: Option<i64>,
            project: String,
            queue: String,
            optional_params: Json<Map<String, Value>>,
            num_nodes: i64,
            wall_time_min: i64,
            job_mode: String,
            filter_tags: Json<Map<String, Value>>,
            partitions: Option<Json<Value>>,
            state: String,
            status_info: Json<Map<String, Value>>,
            start_time: Option<<Db as Dialect>::Time>,
            end_time: Option<<Db as Dialect>::Time>,
        }

        impl From<BatchJobRow> for BatchJob {
            fn from(r: BatchJobRow) -> Self {
                BatchJob {
                    id: r.id,
                    site_id: r.site_id,
                    scheduler_id: r.scheduler_id,
                    project: r.project,
                    queue: r.queue,
                    optional_params: r.optional_params.0,
                    num_nodes: r.num_nodes,
                    wall_time_min: r.wall_time_min,
                    job_mode: r.job_mode,
                    filter_tags: r.filter_tags.0,
                    partitions: r.partitions.map(|p| p.0),
                    state: r.state,
                    status_info: r.status_info.0,
                    start_time: r.start_time.map(Db::from_time),
                    end_time: r.end_time.map(Db::from_time),
                }
            }
        }

        fn push_filters(b: &mut QueryBuilder<'_, Db>, owner: UserId, q: &BatchJobQuery) {
            b.push(" FROM batch_jobs b JOIN sites s ON s.id = b.site_id WHERE s.owner_id = ")
                .push_bind(owner);
            if !q.ids.is_empty() {
                b.push(" AND b.id IN (");
                push_id_list(b, &q.ids);
            }
            if !q.site_ids.is_empty() {
                b.push(" AND b.site_id IN (");
                push_id_list(b, &q.site_ids);
            }
            if !q.states.is_empty() {
                b.push(" AND b.state IN (");
                let mut sep = b.separated(", ");
                for s in &q.states {
                    sep.push_bind(s.clone());
                }
                b.push(")");
            }
            if let Some(sched) = q.scheduler_id.filter(|&s| s != 0) {
                b.push(" AND b.scheduler_id = ").push_bind(sched);
            }
            if let Some(queue) = &q.queue {
                b.push(" AND b.queue = ").push_bind(queue.clone());
            }
            for (op, value, column) in [
                ("<=", &q.start_time_before, "b.start_time"),
                (">=", &q.start_time_after, "b.start_time"),
                ("<=", &q.end_time_before, "b.end_time"),
                (">=", &q.end_time_after, "b.end_time"),
            ] {
                if let Some(t) = value {
                    b.push(format!(" AND {column} {op} "))
                        .push_bind(Db::time(t));
                }
            }
            Db::push_tag_filters(b, "b.filter_tags", &q.filter_tags);
        }

        #[async_trait::async_trait]
        impl BatchJobStore for $store {
            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn create_batch_job(
                &self,
                owner: UserId,
                j: &BatchJobCreate,
            ) -> Result<BatchJob, StoreError> {
                let mut tx = self.write().await?;
                if !crate::shared::site_owned!(&mut *tx, owner, j.site_id) {
                    return Err(StoreError::Invalid(format!(
                        "No site with ID {}",
                        j.site_id
                    )));
                }
                let row: BatchJobRow = sqlx::query_as(&format!(
                    "INSERT INTO batch_jobs (site_id, project, queue, optional_params, num_nodes, \
                       wall_time_min, job_mode, filter_tags, partitions) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {}",
                    <Db as BatchJobSql>::COLUMNS.replace("b.", "")
                ))
                .bind(j.site_id)
                .bind(&j.project)
                .bind(&j.queue)
                .bind(Json(&j.optional_params))
                .bind(j.num_nodes)
                .bind(j.wall_time_min)
                .bind(&j.job_mode)
                .bind(Json(&j.filter_tags))
                .bind(j.partitions.as_ref().map(Json))
                .fetch_one(&mut *tx)
                .await?;
                self.commit_one(tx, owner, balsam_types::Action::Create, BatchJob::from(row)).await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn list_batch_jobs(
                &self,
                owner: UserId,
                q: &BatchJobQuery,
                page: Page,
            ) -> Result<Paginated<BatchJob>, StoreError> {
                let order = match q.order_by_start_time {
                    Some(false) => "b.start_time IS NULL, b.start_time ASC, b.id",
                    Some(true) => "b.start_time IS NOT NULL, b.start_time DESC, b.id",
                    None => "b.id",
                };
                crate::shared::paged!(self, owner, page, BatchJobRow,
                    select <Db as BatchJobSql>::COLUMNS, from "", filters push_filters(owner, q),
                    order order)
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner, id = id))]
            async fn get_batch_job(&self, owner: UserId, id: Id) -> Result<BatchJob, StoreError> {
                crate::shared::get_owned!(self, BatchJobRow, format!(
                    "SELECT {} FROM batch_jobs b JOIN sites s ON s.id = b.site_id \
                     WHERE b.id = $1 AND s.owner_id = $2",
                    <Db as BatchJobSql>::COLUMNS
                ), id, owner)
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn update_batch_jobs(
                &self,
                owner: UserId,
                patches: &[(Id, BatchJobPatch)],
            ) -> Result<Vec<BatchJob>, StoreError> {
                let ids: Vec<Id> = patches.iter().map(|(id, _)| *id).collect();
                let mut tx = self.write().await?;
                let stored: HashMap<Id, String> = sqlx::query_as::<_, (i64, String)>(&format!(
                    "SELECT b.id, b.state FROM batch_jobs b JOIN sites s ON s.id = b.site_id \
                     WHERE s.owner_id = $1 AND b.id {}{}",
                    Db::in_ids("$2"),
                    Db::lock_rows_of("b")
                ))
                .bind(owner)
                .bind(Db::ids(&ids))
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
                if stored.len() != ids.len() {
                    return Err(StoreError::NotFound);
                }
                let doc = lifecycle::batch_job_writes(patches, &stored, <Db as BatchJobSql>::time_value);
                sqlx::query(<Db as BatchJobSql>::PATCH)
                    .bind(Db::doc(doc))
                .execute(&mut *tx)
                .await?;
                let rows: Vec<BatchJobRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM batch_jobs b WHERE b.id {} ORDER BY b.id",
                    <Db as BatchJobSql>::COLUMNS,
                    Db::in_ids("$1")
                ))
                .bind(Db::ids(&ids))
                .fetch_all(&mut *tx)
                .await?;
                let jobs: Vec<BatchJob> = rows.into_iter().map(BatchJob::from).collect();
                let mut out = Outbox::new();
                for job in &jobs {
                    out.updated(job);
                }
                self.commit_with(tx, owner, out).await?;
                Ok(jobs)
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner, id = id))]
            async fn delete_batch_job(&self, owner: UserId, id: Id) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                crate::shared::lock_owned!(Db, tx, "SELECT id FROM batch_jobs WHERE id = $1 \
                     AND site_id IN (SELECT id FROM sites WHERE owner_id = $2)", id, owner);
                let mut out = Outbox::new();
                lifecycle::delete_batch_job(&mut *tx, id, &mut out).await?;
                self.commit_with(tx, owner, out).await
            }
        }
    };
}
pub(crate) use batch_job_store;
