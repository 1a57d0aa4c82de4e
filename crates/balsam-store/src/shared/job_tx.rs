//! The lifecycle primitives that read, update or delete rows by id lists
//! ([`IdListTx`](crate::lifecycle::IdListTx)): the same SQL on both backends, given
//! [`Dialect::in_ids`](super::Dialect::in_ids).
//!
//! Repetition note: the primitives share a skeleton (guard the empty list, bind the ids,
//! map the rows); each reads a different table.

/// `impl IdListTx for $conn`, the connection type of the `sqlx::Database` `$db`.
macro_rules! id_list_tx {
    ($db:ty, $conn:ty) => {
        mod id_list_tx {
            use crate::lifecycle::{AppInfo, Dependents, IdListTx, JobHead, TransferHead};
            use crate::shared::jobs::JobSql;
            use crate::shared::transfers::{TransferRow, TRANSFER_RETURNING};
            use crate::shared::Dialect;
            use crate::StoreError;
            use balsam_types::{Id, Job, JobQuery, JobState, TransferItem, UserId};
            use sqlx::QueryBuilder;
            use serde_json::{Map, Value};
            use sqlx::types::Json;

            type Db = $db;

            #[async_trait::async_trait]
            impl IdListTx for $conn {
                async fn job_heads(&mut self, owner: UserId, ids: &[Id]) -> Result<Vec<JobHead>, StoreError> {
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    // Locked in id order, so concurrent bulk updates cannot deadlock on each other.
                    let rows: Vec<(i64, String, Option<i64>)> = sqlx::query_as(<Db as JobSql>::JOB_HEADS)
                        .bind(owner)
                        .bind(<Db as Dialect>::ids(ids))
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
                    <Db as JobSql>::push_filters(&mut b, owner, q);
                    b.push(" ORDER BY jobs.id LIMIT ").push_bind(limit);
                    Ok(b.build_query_scalar().fetch_all(&mut *self).await?)
                }

                async fn job_states(
                    &mut self,
                    owner: UserId,
                    ids: &[Id],
                ) -> Result<Vec<(Id, JobState)>, StoreError> {
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let rows: Vec<(i64, String)> = sqlx::query_as(<Db as JobSql>::JOB_STATES)
                        .bind(owner)
                        .bind(<Db as Dialect>::ids(ids))
                        .fetch_all(&mut *self)
                        .await?;
                    Ok(rows
                        .into_iter()
                        .map(|(id, s)| (id, JobState::parse(&s).unwrap_or(JobState::Created)))
                        .collect())
                }

                async fn transfer_heads(&mut self, job_ids: &[Id]) -> Result<Vec<TransferHead>, StoreError> {
                    if job_ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let rows: Vec<(i64, bool, bool)> = sqlx::query_as(&format!(
                        "SELECT job_id, direction = 'in', state = 'done' FROM transfer_items \
                         WHERE job_id {}",
                        <Db as Dialect>::in_ids("$1")
                    ))
                    .bind(<Db as Dialect>::ids(job_ids))
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

                async fn activate_stage_outs(
                    &mut self,
                    job_ids: &[Id],
                ) -> Result<Vec<TransferItem>, StoreError> {
                    if job_ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut rows: Vec<TransferRow> = sqlx::query_as(&format!("UPDATE transfer_items SET state = 'pending' WHERE direction = 'out' \
                         AND state = 'awaiting_job' AND job_id {} RETURNING {TRANSFER_RETURNING}", <Db as Dialect>::in_ids("$1")
                    ))
                    .bind(<Db as Dialect>::ids(job_ids))
                    .fetch_all(&mut *self)
                    .await?;
                    rows.sort_by_key(|r| r.id);
                    Ok(rows.into_iter().map(TransferItem::from).collect())
                }

                async fn owned_batch_jobs(&mut self, owner: UserId, ids: &[Id]) -> Result<Vec<Id>, StoreError> {
                    // Each BatchJob stays until commit (PostgreSQL: `FOR KEY SHARE`, once per
                    // BatchJob instead of a foreign-key check per job; migration 0015).
                    Ok(sqlx::query_scalar(&format!("SELECT b.id FROM batch_jobs b JOIN sites s ON s.id = b.site_id \
                         WHERE s.owner_id = $1 AND b.id {}{}", <Db as Dialect>::in_ids("$2"),
                         <Db as Dialect>::key_share_rows_of("b"))
            )
                    .bind(owner)
                    .bind(<Db as Dialect>::ids(ids))
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
                    // Each App stays until commit (PostgreSQL: `FOR KEY SHARE`, what a
                    // foreign key takes per row, once per App; migration 0014).
                    let rows: Vec<Row> = sqlx::query_as(&format!("SELECT a.id, a.site_id, a.name, a.transfers, s.transfer_locations \
                         FROM apps a JOIN sites s ON s.id = a.site_id WHERE s.owner_id = $1 AND a.id {}{}",
                         <Db as Dialect>::in_ids("$2"), <Db as Dialect>::key_share_rows_of("a"))
            )
                    .bind(owner)
                    .bind(<Db as Dialect>::ids(ids))
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

                async fn dependents(&mut self, which: Dependents, parent: Id) -> Result<Vec<Id>, StoreError> {
                    Ok(sqlx::query_scalar(which.sql())
                        .bind(parent)
                        .fetch_all(&mut *self)
                        .await?)
                }

                async fn delete_batch_job_row(&mut self, id: Id) -> Result<(), StoreError> {
                    sqlx::query("DELETE FROM batch_jobs WHERE id = $1")
                        .bind(id)
                        .execute(&mut *self)
                        .await?;
                    Ok(())
                }

                async fn delete_session_row(&mut self, id: Id) -> Result<(), StoreError> {
                    sqlx::query("DELETE FROM sessions WHERE id = $1")
                        .bind(id)
                        .execute(&mut *self)
                        .await?;
                    Ok(())
                }

                async fn dependent_ids(&mut self, job_ids: &[Id]) -> Result<(Vec<Id>, Vec<Id>), StoreError> {
                    let transfers =
                        sqlx::query_scalar(&format!("SELECT id FROM transfer_items WHERE job_id {} ORDER BY id", <Db as Dialect>::in_ids("$1"))
            )
                            .bind(<Db as Dialect>::ids(job_ids))
                            .fetch_all(&mut *self)
                            .await?;
                    let events =
                        sqlx::query_scalar(&format!("SELECT id FROM log_events WHERE job_id {} ORDER BY id", <Db as Dialect>::in_ids("$1"))
            )
                            .bind(<Db as Dialect>::ids(job_ids))
                            .fetch_all(&mut *self)
                            .await?;
                    Ok((transfers, events))
                }

                async fn delete_job_rows(&mut self, ids: &[Id]) -> Result<(), StoreError> {
                    // Their LogEvents go with them: out of the charts' rollup first.
                    sqlx::query(<Db as crate::shared::aggregates::AggregateSql>::UNROLL)
                        .bind(<Db as Dialect>::ids(ids))
                        .execute(&mut *self)
                        .await?;
                    sqlx::query(&format!("DELETE FROM jobs WHERE id {}", <Db as Dialect>::in_ids("$1"))
            )
                        .bind(<Db as Dialect>::ids(ids))
                        .execute(&mut *self)
                        .await?;
                    Ok(())
                }

                async fn fetch_jobs(&mut self, ids: &[Id]) -> Result<Vec<Job>, StoreError> {
                    let rows: Vec<<Db as JobSql>::JobRow> = sqlx::query_as(&format!("SELECT {} FROM jobs WHERE jobs.id {}", <Db as JobSql>::JOB_COLUMNS, <Db as Dialect>::in_ids("$1")
                    ))
                    .bind(<Db as Dialect>::ids(ids))
                    .fetch_all(&mut *self)
                    .await?;
                    Ok(crate::shared::jobs::in_order_of(
                        ids,
                        rows.into_iter().map(Job::from).collect(),
                    ))
                }
            }
        }
    };
}
pub(crate) use id_list_tx;
