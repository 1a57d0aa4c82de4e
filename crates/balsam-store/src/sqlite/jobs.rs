//! [`JobStore`] on SQLite: each use case opens its transaction and runs the
//! lifecycle ([`crate::lifecycle`]) or a job query ([`super::job_queries`]).

use super::job_queries::*;
use super::{head_seq, SqliteStore};
use crate::jobs::{JobStore, JobUpdate};
use crate::lifecycle::{self};
use crate::StoreError;
use balsam_types::{
    Id, Job, JobCreate, JobQuery, Outbox, Page, Paginated, SiteStateCounts, UserId,
};
use sqlx::QueryBuilder;

#[async_trait::async_trait]
impl JobStore for SqliteStore {
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
        let mut tx = self.read().await?;
        let seq = head_seq(&mut tx, owner).await?;
        let mut count = QueryBuilder::new("");
        push_job_count(&mut count, owner, q);
        let count: i64 = count.build_query_scalar().fetch_one(&mut *tx).await?;
        let results: Vec<JobRow> = if page.limit == 0 || page.offset >= count {
            Vec::new() // a count (`limit=0`), or a page past the end: no rows to read
        } else {
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
        .fetch_one(&self.reader)
        .await?;
        Ok(row.into())
    }

    async fn update_jobs(&self, owner: UserId, update: JobUpdate<'_>) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let mut out = Outbox::new();
        let n =
            lifecycle::update_jobs(&mut *tx, owner, update, balsam_types::time::now(), &mut out)
                .await?;
        self.commit_with(tx, owner, out).await?;
        Ok(n)
    }

    async fn delete_jobs(&self, owner: UserId, q: &JobQuery) -> Result<u64, StoreError> {
        let mut b = QueryBuilder::new("SELECT jobs.id FROM jobs");
        push_job_filters(&mut b, owner, q);
        b.push(" AND jobs.session_id IS NULL ORDER BY jobs.id");
        let mut tx = self.write().await?;
        let ids: Vec<Id> = b.build_query_scalar().fetch_all(&mut *tx).await?;
        let mut out = Outbox::new();
        lifecycle::delete_jobs_by_ids(&mut *tx, &ids, &mut out).await?;
        self.commit_with(tx, owner, out).await?;
        Ok(ids.len() as u64)
    }

    async fn delete_job(&self, owner: UserId, id: Id) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let locked: Option<Option<i64>> =
            sqlx::query_scalar("SELECT session_id FROM jobs WHERE id = $1 AND owner_id = $2")
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
            .fetch_all(&self.reader)
            .await?;
        Ok(crate::shared::counts::group_counts(rows))
    }
}
