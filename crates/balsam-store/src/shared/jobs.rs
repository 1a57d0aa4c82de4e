//! Jobs on both backends: [`JobStore`](crate::JobStore) (each use case opens its
//! transaction and runs the lifecycle or a job query) and
//! [`JobExportStore`](crate::JobExportStore), written once; what each dialect spells
//! differently is [`JobSql`], implemented in the backend's `job_queries.rs`.
//!
//! Repetition note: each resource's listing, read, create and delete have the same shape on
//! purpose; the shared steps are `paged!`, `get_owned!`, `lock_owned!` and `commit_one`
//! (`shared/mod.rs`), and what repeats is each call with that resource's SQL.

use super::Dialect;
use balsam_types::job::JobOrdering;
use balsam_types::{Id, Job, JobQuery, Page, UserId};
use sqlx::QueryBuilder;
use std::collections::HashMap;

/// The `ORDER BY` list of a job page: the requested key, then ascending id, as the spec
/// says (balsam-api.md §1.5, checked by the conformance suite). Each key is an index's
/// order (`jobs_owner_last_update_idx (owner_id, last_update, id)`, `jobs_owner_state_idx
/// (owner_id, state, id)`, `jobs_owner_id_idx (owner_id, id)`), read forwards or
/// backwards; a descending key sorts only within ties (PostgreSQL's incremental sort:
/// one bulk update's jobs share a `last_update`), never the owner's whole job set.
pub(crate) fn job_order_by(ordering: Option<(JobOrdering, bool)>) -> &'static str {
    match ordering {
        None | Some((JobOrdering::Id, false)) => "jobs.id ASC",
        Some((JobOrdering::Id, true)) => "jobs.id DESC",
        Some((JobOrdering::LastUpdate, false)) => "jobs.last_update ASC, jobs.id ASC",
        Some((JobOrdering::LastUpdate, true)) => "jobs.last_update DESC, jobs.id ASC",
        Some((JobOrdering::State, false)) => "jobs.state ASC, jobs.id ASC",
        Some((JobOrdering::State, true)) => "jobs.state DESC, jobs.id ASC",
        Some((JobOrdering::Workdir, false)) => "jobs.workdir ASC, jobs.id ASC",
        Some((JobOrdering::Workdir, true)) => "jobs.workdir DESC, jobs.id ASC",
    }
}

/// Orders fetched rows like `ids`.
pub(crate) fn in_order_of(ids: &[Id], rows: Vec<Job>) -> Vec<Job> {
    let mut by_id: HashMap<Id, Job> = rows.into_iter().map(|j| (j.id, j)).collect();
    ids.iter().filter_map(|id| by_id.remove(id)).collect()
}

/// The job queries as each dialect writes them.
pub(crate) trait JobSql: Dialect {
    /// The columns [`JobSql::JobRow`] reads, qualified by `jobs.`.
    const JOB_COLUMNS: &'static str;
    /// The owner's per-(Site, state) job counts (`$1` = owner), ordered by Site.
    const STATE_COUNTS: &'static str;
    /// Appended to a `SELECT` in a write transaction: rows another transaction holds are
    /// skipped, like upstream (`FOR UPDATE SKIP LOCKED`; nothing on SQLite, where the
    /// write lock is the database's).
    const SKIP_LOCKED: &'static str;
    /// The targets of a bulk update, `(id, state, session_id)` of the owner's (`$1`)
    /// jobs among the ids `$2`, locked in id order (concurrent bulk updates cannot
    /// deadlock on each other).
    const JOB_HEADS: &'static str;
    /// `(id, state)` of the owner's (`$1`) jobs among the ids `$2` (a create's parents).
    const JOB_STATES: &'static str;
    /// A job as a `SELECT` of [`JobSql::JOB_COLUMNS`] reads it.
    type JobRow: Into<Job>;
    /// ` FROM jobs WHERE …` for the owner's jobs matching `q`.
    fn push_filters(b: &mut QueryBuilder<'_, Self>, owner: UserId, q: &JobQuery);
    /// A statement giving the number of the owner's jobs matching `q`.
    fn push_count(b: &mut QueryBuilder<'_, Self>, owner: UserId, q: &JobQuery);
    /// ` FROM jobs WHERE …` for a page read by walking an owner-led index in the page's
    /// order and filtering (see [`JobSql::walk_pays`]).
    fn push_walk_filters(b: &mut QueryBuilder<'_, Self>, owner: UserId, q: &JobQuery) {
        Self::push_filters(b, owner, q);
    }
    /// A statement giving one page of the owner's jobs matching `q`, in its order (the
    /// index orders of [`job_order_by`]); `walk`: read by walking the order's index.
    fn push_page(
        b: &mut QueryBuilder<'_, Self>,
        owner: UserId,
        q: &JobQuery,
        page: Page,
        walk: bool,
    ) where
        i64: for<'q> sqlx::Encode<'q, Self> + sqlx::Type<Self>,
    {
        b.push(format!("SELECT {} FROM jobs", Self::JOB_COLUMNS));
        if walk {
            Self::push_walk_filters(b, owner, q);
        } else {
            Self::push_filters(b, owner, q);
        }
        b.push(" ORDER BY ")
            .push(job_order_by(q.ordering))
            .push(" LIMIT ")
            .push_bind(page.limit)
            .push(" OFFSET ")
            .push_bind(page.offset);
    }
    /// The statement that opens a page's read transaction with the planner settings the
    /// page needs, if the dialect has any (one round trip for both); `None`: a plain
    /// [`Backend::read`](crate::shared::Backend::read).
    fn page_begin(q: &JobQuery) -> Option<&'static str>;
    /// Whether deciding how to read `q`'s page needs the owner's job total beside the
    /// count of matches ([`JobSql::walk_pays`]).
    fn needs_owner_total(_q: &JobQuery) -> bool {
        false
    }
    /// Once the page's count (`matches`) and the owner's job total are known: whether
    /// walking an owner-led index in the page's order, filtering as it goes, reads fewer
    /// rows than looking the matches up in a filter's own index and sorting them all.
    /// `Some(settings)`: walk, after running `settings` in the page's transaction.
    fn walk_pays(_q: &JobQuery, _page: Page, _matches: i64, _total: i64) -> Option<&'static str> {
        None
    }
}

/// `impl JobStore + JobExportStore for $store`, where `$db` is the store's
/// `sqlx::Database`.
macro_rules! job_store {
    ($store:ty, $db:ty) => {
        use crate::jobs::{JobStore, JobUpdate};
        use crate::lifecycle;
        use crate::shared::jobs::JobSql;
        use crate::shared::{Backend as _, Dialect};
        use crate::{JobExportStore, StoreError};
        use balsam_types::{
            Id, Job, JobCreate, JobQuery, Outbox, Page, Paginated, SiteStateCounts, UserId,
        };
        use sqlx::QueryBuilder;

        type Db = $db;

        #[async_trait::async_trait]
        impl JobStore for $store {
            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn create_jobs(
                &self,
                owner: UserId,
                jobs: &[JobCreate],
            ) -> Result<Vec<Job>, StoreError> {
                let mut tx = self.write().await?;
                let mut out = Outbox::new();
                let now = balsam_types::time::now();
                let created = lifecycle::create_jobs(&mut *tx, owner, jobs, now, &mut out).await?;
                self.commit_with(tx, owner, out).await?;
                Ok(created)
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn list_jobs(
                &self,
                owner: UserId,
                q: &JobQuery,
                page: Page,
            ) -> Result<Paginated<Job>, StoreError> {
                // The log head and the count in one statement (one snapshot). A count alone
                // (`limit=0`: the CLI's per-state counts, the Site agent's polls) is that one
                // round trip, with no transaction around it.
                //
                // A first page asked for by at most `limit` ids (the SDK's `refresh_from_db`
                // and `wait` polling: 500 ids a call, every second) holds every match, so
                // its count is its length: the count statement's second pass over the ids
                // is skipped.
                let page_holds_all = page.offset == 0
                    && page.limit > 0
                    && !q.ids.is_empty()
                    && q.ids.len() as i64 <= page.limit;
                let mut head = QueryBuilder::new(
                    "SELECT COALESCE((SELECT seq FROM user_event_seq WHERE user_id = ",
                );
                head.push_bind(owner).push("), 0), (");
                if page_holds_all {
                    head.push("CAST(0 AS BIGINT)");
                } else {
                    <Db as JobSql>::push_count(&mut head, owner, q);
                }
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
                let mut tx = match <Db as JobSql>::page_begin(q) {
                    Some(begin) => self.read_pool().begin_with(begin).await?,
                    None => self.read().await?,
                };
                if <Db as JobSql>::needs_owner_total(q) {
                    head.push(", (");
                    <Db as JobSql>::push_count(&mut head, owner, &JobQuery::default());
                    head.push(")");
                } else {
                    head.push(", CAST(0 AS BIGINT)");
                }
                let (seq, count, total): (i64, i64, i64) =
                    head.build_query_as().fetch_one(&mut *tx).await?;
                let results: Vec<<Db as JobSql>::JobRow> =
                    if !page_holds_all && page.offset >= count {
                        Vec::new() // a page past the end: no rows to read
                    } else {
                        let walk = <Db as JobSql>::walk_pays(q, page, count, total);
                        if let Some(settings) = walk {
                            sqlx::query(settings).execute(&mut *tx).await?;
                        }
                        let mut rows = QueryBuilder::new("");
                        <Db as JobSql>::push_page(&mut rows, owner, q, page, walk.is_some());
                        rows.build_query_as().fetch_all(&mut *tx).await?
                    };
                tx.commit().await?;
                let count = if page_holds_all {
                    results.len() as i64
                } else {
                    count
                };
                Ok(Paginated {
                    count,
                    results: results.into_iter().map(Job::from).collect(),
                    seq,
                })
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner, id = id))]
            async fn get_job(&self, owner: UserId, id: Id) -> Result<Job, StoreError> {
                crate::shared::get_owned!(
                    self,
                    <Db as JobSql>::JobRow,
                    format!(
                        "SELECT {} FROM jobs WHERE jobs.id = $1 AND jobs.owner_id = $2",
                        <Db as JobSql>::JOB_COLUMNS
                    ),
                    id,
                    owner
                )
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn update_jobs(
                &self,
                owner: UserId,
                update: JobUpdate<'_>,
            ) -> Result<u64, StoreError> {
                let mut tx = self.write().await?;
                let mut out = Outbox::new();
                let now = balsam_types::time::now();
                let n = lifecycle::update_jobs(&mut *tx, owner, update, now, &mut out).await?;
                self.commit_with(tx, owner, out).await?;
                Ok(n)
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn delete_jobs(&self, owner: UserId, q: &JobQuery) -> Result<u64, StoreError> {
                // Rows locked by a concurrent transaction are skipped, like upstream.
                let mut b = QueryBuilder::new("SELECT jobs.id FROM jobs");
                <Db as JobSql>::push_filters(&mut b, owner, q);
                b.push(" AND jobs.session_id IS NULL ORDER BY jobs.id");
                b.push(<Db as JobSql>::SKIP_LOCKED);
                let mut tx = self.write().await?;
                let ids: Vec<Id> = b.build_query_scalar().fetch_all(&mut *tx).await?;
                let mut out = Outbox::new();
                lifecycle::delete_jobs_by_ids(&mut *tx, &ids, &mut out).await?;
                self.commit_with(tx, owner, out).await?;
                Ok(ids.len() as u64)
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner, id = id))]
            async fn delete_job(&self, owner: UserId, id: Id) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                let locked: Option<Option<i64>> = sqlx::query_scalar(&format!(
                    "SELECT session_id FROM jobs WHERE id = $1 AND owner_id = $2{}",
                    <Db as Dialect>::FOR_UPDATE
                ))
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

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn job_state_counts(
                &self,
                owner: UserId,
            ) -> Result<Vec<SiteStateCounts>, StoreError> {
                let rows: Vec<(i64, String, i64, f64)> =
                    sqlx::query_as(<Db as JobSql>::STATE_COUNTS)
                        .bind(owner)
                        .fetch_all(self.read_pool())
                        .await?;
                Ok(crate::shared::counts::group_counts(rows))
            }
        }

        #[async_trait::async_trait]
        impl JobExportStore for $store {
            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn export_jobs_after(
                &self,
                owner: UserId,
                query: &JobQuery,
                after: Id,
                limit: i64,
            ) -> Result<Vec<Job>, StoreError> {
                let mut b: QueryBuilder<'_, Db> =
                    QueryBuilder::new(format!("SELECT {} FROM jobs", <Db as JobSql>::JOB_COLUMNS));
                <Db as JobSql>::push_filters(&mut b, owner, query);
                b.push(" AND jobs.id > ")
                    .push_bind(after)
                    .push(" ORDER BY jobs.id LIMIT ")
                    .push_bind(limit);
                let rows: Vec<<Db as JobSql>::JobRow> =
                    b.build_query_as().fetch_all(self.read_pool()).await?;
                Ok(rows.into_iter().map(Job::from).collect())
            }
        }
    };
}
pub(crate) use job_store;

/// `JobRow`, a job as a `SELECT` of the backend's `JOB_COLUMNS` reads it (timestamps as
/// the `sqlx::Database` `$db` stores them), and its conversion to a [`Job`].
macro_rules! job_row {
    ($db:ty) => {
        #[derive(sqlx::FromRow)]
        pub(crate) struct JobRow {
            id: i64,
            workdir: String,
            tags: sqlx::types::Json<serde_json::Map<String, serde_json::Value>>,
            app_id: i64,
            session_id: Option<i64>,
            serialized_parameters: String,
            serialized_return_value: String,
            serialized_exception: String,
            batch_job_id: Option<i64>,
            state: String,
            last_update: <$db as $crate::shared::Dialect>::Time,
            data: sqlx::types::Json<serde_json::Map<String, serde_json::Value>>,
            return_code: Option<i64>,
            pending_file_cleanup: bool,
            parent_ids: sqlx::types::Json<Vec<i64>>,
            num_nodes: i64,
            ranks_per_node: i64,
            threads_per_rank: i64,
            threads_per_core: i64,
            gpus_per_rank: f64,
            node_packing_count: i64,
            wall_time_min: i64,
            launch_params: sqlx::types::Json<serde_json::Map<String, serde_json::Value>>,
        }

        impl From<JobRow> for balsam_types::Job {
            fn from(r: JobRow) -> Self {
                balsam_types::Job {
                    id: r.id,
                    workdir: r.workdir,
                    tags: r.tags.0,
                    app_id: r.app_id,
                    session_id: r.session_id,
                    serialized_parameters: r.serialized_parameters,
                    serialized_return_value: r.serialized_return_value,
                    serialized_exception: r.serialized_exception,
                    batch_job_id: r.batch_job_id,
                    state: balsam_types::JobState::parse(&r.state)
                        .unwrap_or(balsam_types::JobState::Created),
                    last_update: <$db as $crate::shared::Dialect>::from_time(r.last_update),
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
    };
}
pub(crate) use job_row;
