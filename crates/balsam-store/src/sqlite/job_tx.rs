//! The lifecycle primitives ([`JobTx`]) on SQLite.
//!
//! Repetition note: this file and `postgres/job_tx.rs` share each method's skeleton (guard,
//! bind, map the rows) on purpose; every statement's SQL and bound types differ. What is
//! the same SQL on both backends is written once in `shared/job_tx.rs`.

use super::job_queries::*;
use super::{ids_json, to_micros};
use crate::lifecycle::{self, JobTx, JobWrite, NewJob, NewLogEvent, NewTransfer};
use crate::shared::aggregates::Rollup;
use crate::shared::log_events::{log_event, EventRow};
use crate::shared::transfers::{TransferRow, TRANSFER_RETURNING};
use crate::StoreError;
use balsam_types::{Id, Job, LogEvent, Session, TransferItem, UserId};
use chrono::{DateTime, Utc};
use sqlx::{Sqlite, SqliteConnection};

crate::shared::job_tx::id_list_tx!(sqlx::Sqlite, sqlx::SqliteConnection);

#[async_trait::async_trait]
impl JobTx for SqliteConnection {
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
             session_id = CASE WHEN json_extract(p.value, '$.__release') THEN NULL ELSE jobs.session_id END, \
             last_update = $2 \
             FROM json_each($1) AS p WHERE jobs.id = json_extract(p.value, '$.__id') \
             RETURNING {JOB_COLUMNS}",
            sets.join(", ")
        );
        let rows: Vec<JobRow> = sqlx::query_as(&sql)
            .bind(lifecycle::writes_document(writes).to_string())
            .bind(to_micros(&now))
            .fetch_all(&mut *self)
            .await?;
        let ids: Vec<Id> = writes.iter().map(|w| w.id).collect();
        Ok(crate::shared::jobs::in_order_of(
            &ids,
            rows.into_iter().map(Job::from).collect(),
        ))
    }

    async fn shift_tag_counts(&mut self, ids: &[Id], sign: i64) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO job_tag_counts (owner_id, key, value, shard, count) \
             SELECT j.owner_id, t.key, t.value, 0, $2 * count(*) \
             FROM jobs j, json_each(j.tags) t \
             WHERE j.id IN (SELECT value FROM json_each($1)) GROUP BY 1, 2, 3 \
             ON CONFLICT (owner_id, key, value, shard) DO UPDATE SET count = count + excluded.count",
        )
        .bind(ids_json(ids))
        .bind(sign)
        .execute(&mut *self)
        .await?;
        if sign < 0 {
            // The pairs these jobs leave may now be empty (migration 0012).
            sqlx::query(
                "DELETE FROM job_tag_counts WHERE count = 0 AND (owner_id, key, value) IN \
                 (SELECT j.owner_id, t.key, t.value FROM jobs j, json_each(j.tags) t \
                 WHERE j.id IN (SELECT value FROM json_each($1)))",
            )
            .bind(ids_json(ids))
            .execute(&mut *self)
            .await?;
        }
        Ok(())
    }

    async fn insert_log_events(
        &mut self,
        owner: UserId,
        events: &[NewLogEvent],
    ) -> Result<Vec<LogEvent>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let doc = lifecycle::events_document(events, |t| to_micros(t).into());
        let mut rows: Vec<EventRow<Sqlite>> = sqlx::query_as(
            "INSERT INTO log_events (job_id, owner_id, timestamp, from_state, to_state, data) \
             SELECT json_extract(value, '$.job_id'), $2, json_extract(value, '$.timestamp'), \
                    json_extract(value, '$.from_state'), json_extract(value, '$.to_state'), \
                    json(json_extract(value, '$.data')) \
             FROM json_each($1) \
             RETURNING id, job_id, timestamp, from_state, to_state, data",
        )
        .bind(doc.to_string())
        .bind(owner)
        .fetch_all(&mut *self)
        .await?;
        rows.sort_by_key(|r| r.0);
        super::aggregates::roll_up(self, owner, &Rollup::of(events)).await?;
        Ok(rows.into_iter().map(log_event::<Sqlite>).collect())
    }

    async fn releasable_children(
        &mut self,
        owner: UserId,
        parents: &[Id],
    ) -> Result<Vec<Id>, StoreError> {
        if parents.is_empty() {
            return Ok(Vec::new());
        }
        Ok(sqlx::query_scalar(
            "SELECT c.id FROM jobs c WHERE c.owner_id = $1 AND c.state = 'AWAITING_PARENTS' \
             AND c.id IN (SELECT job_id FROM job_parents \
                          WHERE parent_id IN (SELECT value FROM json_each($2))) \
             AND NOT EXISTS (SELECT 1 FROM job_parents jp LEFT JOIN jobs p ON p.id = jp.parent_id \
                             WHERE jp.job_id = c.id AND (p.id IS NULL OR p.state <> 'JOB_FINISHED')) \
             ORDER BY c.id",
        )
        .bind(owner)
        .bind(ids_json(parents))
        .fetch_all(&mut *self)
        .await?)
    }

    async fn allocate_job_ids(&mut self, n: usize) -> Result<Vec<Id>, StoreError> {
        // The write lock is held (BEGIN IMMEDIATE), so nobody else can take these ids;
        // inserting them explicitly advances sqlite_sequence past them.
        let last: i64 = sqlx::query_scalar(
            "SELECT max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'jobs'), 0), \
                        COALESCE((SELECT max(id) FROM jobs), 0))",
        )
        .fetch_one(&mut *self)
        .await?;
        Ok((1..=n as i64).map(|i| last + i).collect())
    }

    async fn insert_jobs(
        &mut self,
        owner: UserId,
        jobs: &[NewJob<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError> {
        let doc = lifecycle::jobs_document(owner, jobs, to_micros(&now).into());
        let rows: Vec<JobRow> = sqlx::query_as(&format!(
            "INSERT INTO jobs (id, owner_id, site_id, app_id, workdir, tags, serialized_parameters, \
                state, last_update, data, return_code, parent_ids, num_nodes, ranks_per_node, \
                threads_per_rank, threads_per_core, launch_params, gpus_per_rank, \
                node_packing_count, wall_time_min) \
             SELECT json_extract(value, '$.id'), json_extract(value, '$.owner_id'), \
                json_extract(value, '$.site_id'), json_extract(value, '$.app_id'), \
                json_extract(value, '$.workdir'), json(json_extract(value, '$.tags')), \
                json_extract(value, '$.serialized_parameters'), json_extract(value, '$.state'), \
                json_extract(value, '$.last_update'), json(json_extract(value, '$.data')), \
                json_extract(value, '$.return_code'), json(json_extract(value, '$.parent_ids')), \
                json_extract(value, '$.num_nodes'), json_extract(value, '$.ranks_per_node'), \
                json_extract(value, '$.threads_per_rank'), json_extract(value, '$.threads_per_core'), \
                json(json_extract(value, '$.launch_params')), json_extract(value, '$.gpus_per_rank'), \
                json_extract(value, '$.node_packing_count'), json_extract(value, '$.wall_time_min') \
             FROM json_each($1) RETURNING {JOB_COLUMNS}"
        ))
        .bind(doc.to_string())
        .fetch_all(&mut *self)
        .await?;
        // The per-tag counts (migration 0010): the pairs counted here, one small upsert.
        let (keys, values, counts) =
            crate::shared::counts::tag_pairs(jobs.iter().map(|j| &j.spec.tags));
        if !keys.is_empty() {
            let doc: Vec<(&str, &str, i64)> = keys
                .into_iter()
                .zip(values)
                .zip(counts)
                .map(|((k, v), n)| (k, v, n))
                .collect();
            sqlx::query(
                "INSERT INTO job_tag_counts (owner_id, key, value, shard, count) \
                 SELECT $1, value ->> 0, value ->> 1, 0, value ->> 2 FROM json_each($2) WHERE true \
                 ON CONFLICT (owner_id, key, value, shard) DO UPDATE \
                    SET count = count + excluded.count",
            )
            .bind(owner)
            .bind(serde_json::to_string(&doc).unwrap_or_else(|_| "[]".into()))
            .execute(&mut *self)
            .await?;
        }
        let ids: Vec<Id> = jobs.iter().map(|j| j.id).collect();
        Ok(crate::shared::jobs::in_order_of(
            &ids,
            rows.into_iter().map(Job::from).collect(),
        ))
    }

    async fn insert_job_parents(&mut self, pairs: &[(Id, Id)]) -> Result<(), StoreError> {
        if pairs.is_empty() {
            return Ok(());
        }
        let doc = serde_json::to_string(pairs).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "INSERT INTO job_parents (job_id, parent_id) \
             SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each($1)",
        )
        .bind(doc)
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
             SELECT json_extract(value, '$.job_id'), json_extract(value, '$.direction'), \
                json_extract(value, '$.local_path'), json_extract(value, '$.remote_path'), \
                json_extract(value, '$.recursive'), json_extract(value, '$.location_alias'), \
                json_extract(value, '$.state') \
             FROM json_each($1) RETURNING {TRANSFER_RETURNING}"
        ))
        .bind(lifecycle::transfers_document(items).to_string())
        .fetch_all(&mut *self)
        .await?;
        rows.sort_by_key(|r| r.id);
        Ok(rows.into_iter().map(TransferItem::from).collect())
    }

    async fn fetch_sessions(&mut self, ids: &[Id]) -> Result<Vec<Session>, StoreError> {
        super::sessions::fetch_sessions(self, ids).await
    }
}
