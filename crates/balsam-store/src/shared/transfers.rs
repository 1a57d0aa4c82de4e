//! TransferItems, on both backends: the rows (no timestamp or dialect-typed columns) and
//! [`TransferStore`](crate::TransferStore), whose one per-dialect statement is
//! [`TransferSql::PATCH`].
//!
//! Repetition note: each resource's listing, read, create and delete have the same shape on
//! purpose; the shared steps are `paged!`, `get_owned!`, `lock_owned!` and `commit_one`
//! (`shared/mod.rs`), and what repeats is each call with that resource's SQL.

use balsam_types::app::TransferDirection;
use balsam_types::TransferItem;
use serde_json::{Map, Value};
use sqlx::types::Json;

pub(crate) const TRANSFER_COLUMNS: &str =
    "t.id, t.job_id, t.direction, t.local_path, t.remote_path, \
    t.location_alias, t.recursive, t.state, t.task_id, t.transfer_info";

/// The same columns, unqualified, for `RETURNING`.
pub(crate) const TRANSFER_RETURNING: &str = "id, job_id, direction, local_path, remote_path, \
    location_alias, recursive, state, task_id, transfer_info";

#[derive(sqlx::FromRow)]
pub(crate) struct TransferRow {
    pub(crate) id: i64,
    job_id: i64,
    direction: String,
    local_path: String,
    remote_path: String,
    location_alias: String,
    recursive: bool,
    state: String,
    task_id: String,
    transfer_info: Json<Map<String, Value>>,
}

impl From<TransferRow> for TransferItem {
    fn from(r: TransferRow) -> Self {
        TransferItem {
            id: r.id,
            job_id: r.job_id,
            direction: if r.direction == "in" {
                TransferDirection::In
            } else {
                TransferDirection::Out
            },
            local_path: r.local_path,
            remote_path: r.remote_path,
            location_alias: r.location_alias,
            recursive: r.recursive,
            state: r.state,
            task_id: r.task_id,
            transfer_info: r.transfer_info.0,
        }
    }
}

/// The statement that applies a JSON array of TransferItem patches (`$1`: objects with
/// `id` and the keys to set: `state`, `task_id`, `transfer_info`).
pub(crate) trait TransferSql {
    const PATCH: &'static str;
}

/// `impl TransferStore for $store`, where `$db` is the store's `sqlx::Database`.
macro_rules! transfer_store {
    ($store:ty, $db:ty) => {
        use crate::lifecycle;
        use crate::shared::transfers::{TransferRow, TransferSql, TRANSFER_COLUMNS};
        use crate::shared::{push_id_list, Backend as _, Dialect};
        use crate::{StoreError, TransferStore};
        use balsam_types::{
            Id, Outbox, Page, Paginated, TransferItem, TransferPatch, TransferQuery, UserId,
        };
        use serde_json::{Map, Value};
        use sqlx::QueryBuilder;

        type Db = $db;

        fn push_transfer_filters(b: &mut QueryBuilder<'_, Db>, owner: UserId, q: &TransferQuery) {
            b.push(" FROM transfer_items t JOIN jobs ON jobs.id = t.job_id WHERE jobs.owner_id = ")
                .push_bind(owner);
            if !q.ids.is_empty() {
                b.push(" AND t.id IN (");
                push_id_list(b, &q.ids);
            }
            if let Some(site_id) = q.site_id {
                b.push(" AND jobs.site_id = ").push_bind(site_id);
            }
            if !q.job_ids.is_empty() {
                b.push(" AND t.job_id IN (");
                push_id_list(b, &q.job_ids);
            }
            if !q.states.is_empty() {
                b.push(" AND t.state IN (");
                let mut sep = b.separated(", ");
                for s in &q.states {
                    sep.push_bind(s.clone());
                }
                b.push(")");
            }
            if let Some(direction) = &q.direction {
                b.push(" AND t.direction = ").push_bind(direction.clone());
            }
            if let Some(job_state) = &q.job_state {
                b.push(" AND jobs.state = ").push_bind(job_state.clone());
            }
            <Db as Dialect>::push_tag_filters(b, "jobs.tags", &q.tags);
        }

        #[async_trait::async_trait]
        impl TransferStore for $store {
            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn list_transfers(
                &self,
                owner: UserId,
                q: &TransferQuery,
                page: Page,
            ) -> Result<Paginated<TransferItem>, StoreError> {
                crate::shared::paged!(self, owner, page, TransferRow,
                    select TRANSFER_COLUMNS, from "", filters push_transfer_filters(owner, q),
                    order "t.id")
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner, id = id))]
            async fn get_transfer(&self, owner: UserId, id: Id) -> Result<TransferItem, StoreError> {
                crate::shared::get_owned!(self, TransferRow, format!(
                    "SELECT {TRANSFER_COLUMNS} FROM transfer_items t JOIN jobs ON jobs.id = t.job_id \
                     WHERE t.id = $1 AND jobs.owner_id = $2"
                ), id, owner)
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn update_transfers(
                &self,
                owner: UserId,
                patches: &[(Id, TransferPatch)],
            ) -> Result<Vec<TransferItem>, StoreError> {
                let ids: Vec<Id> = patches.iter().map(|(id, _)| *id).collect();
                let mut tx = self.write().await?;
                let owned: Vec<(i64, i64)> = sqlx::query_as(&format!(
                    "SELECT t.id, t.job_id FROM transfer_items t JOIN jobs ON jobs.id = t.job_id \
                     WHERE t.id {} AND jobs.owner_id + 0 = $1{}",
                    <Db as Dialect>::in_ids("$2"),
                    <Db as Dialect>::lock_rows_of("t"),
                ))
                .bind(owner)
                .bind(<Db as Dialect>::ids(&ids))
                .fetch_all(&mut *tx)
                .await?;
                if owned.len() != ids.len() {
                    return Err(StoreError::NotFound);
                }
                let doc: Vec<Value> = patches
                    .iter()
                    .map(|(id, p)| {
                        let mut obj = Map::new();
                        obj.insert("id".into(), (*id).into());
                        if let Some(s) = &p.state {
                            obj.insert("state".into(), s.clone().into());
                        }
                        if let Some(t) = &p.task_id {
                            obj.insert("task_id".into(), t.clone().into());
                        }
                        if let Some(info) = &p.transfer_info {
                            obj.insert("transfer_info".into(), Value::Object(info.clone()));
                        }
                        Value::Object(obj)
                    })
                    .collect();
                sqlx::query(<Db as TransferSql>::PATCH)
                .bind(<Db as Dialect>::doc(Value::Array(doc)))
                .execute(&mut *tx)
                .await?;
                let rows: Vec<TransferRow> = sqlx::query_as(&format!(
                    "SELECT {TRANSFER_COLUMNS} FROM transfer_items t WHERE t.id {} ORDER BY t.id",
                    <Db as Dialect>::in_ids("$1"),
                ))
                .bind(<Db as Dialect>::ids(&ids))
                .fetch_all(&mut *tx)
                .await?;
                let items: Vec<TransferItem> = rows.into_iter().map(TransferItem::from).collect();
                let mut out = Outbox::new();
                out.bulk_updated(&items);
                let job_ids = lifecycle::distinct(owned.iter().map(|(_, job)| *job));
                let now = balsam_types::time::now();
                lifecycle::advance_after_transfers(&mut *tx, owner, &job_ids, now, &mut out).await?;
                self.commit_with(tx, owner, out).await?;
                Ok(items)
            }
        }
    };
}
pub(crate) use transfer_store;
