//! Job export pages on Postgres: the job list's own filters (`jobs::push_job_filters`) plus
//! `id > after ORDER BY id`, which the owner-led `(…, id)` indexes read in order.

use super::job_queries::{push_job_filters, JobRow, JOB_COLUMNS};
use super::PostgresStore;
use crate::{JobExportStore, StoreError};
use balsam_types::{Id, Job, JobQuery, UserId};
use sqlx::QueryBuilder;

#[async_trait::async_trait]
impl JobExportStore for PostgresStore {
    async fn export_jobs_after(
        &self,
        owner: UserId,
        query: &JobQuery,
        after: Id,
        limit: i64,
    ) -> Result<Vec<Job>, StoreError> {
        let mut b: QueryBuilder<'_, sqlx::Postgres> =
            QueryBuilder::new(format!("SELECT {JOB_COLUMNS} FROM jobs"));
        push_job_filters(&mut b, owner, query);
        b.push(" AND jobs.id > ")
            .push_bind(after)
            .push(" ORDER BY jobs.id LIMIT ")
            .push_bind(limit);
        let rows: Vec<JobRow> = b.build_query_as().fetch_all(self.read_pool()).await?;
        Ok(rows.into_iter().map(Job::from).collect())
    }
}
