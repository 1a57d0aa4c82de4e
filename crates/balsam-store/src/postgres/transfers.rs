//! TransferItems on PostgreSQL.

use super::job_queries::push_tag_filters;
use super::{head_seq, push_id_list, PostgresStore};
use crate::lifecycle;
use crate::shared::transfers::TRANSFER_COLUMNS;
pub(crate) use crate::shared::transfers::{TransferRow, TRANSFER_RETURNING};
use crate::{StoreError, TransferStore};
use balsam_types::Outbox;
use balsam_types::{Id, Page, Paginated, TransferItem, TransferPatch, TransferQuery, UserId};
use serde_json::{Map, Value};
use sqlx::types::Json;
use sqlx::{Postgres, QueryBuilder};

fn push_transfer_filters(b: &mut QueryBuilder<'_, Postgres>, owner: UserId, q: &TransferQuery) {
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
    push_tag_filters(b, "jobs.tags", &q.tags);
}

#[async_trait::async_trait]
impl TransferStore for PostgresStore {
    async fn list_transfers(
        &self,
        owner: UserId,
        q: &TransferQuery,
        page: Page,
    ) -> Result<Paginated<TransferItem>, StoreError> {
        let mut tx = self.read().await?;
        let seq = head_seq(&mut tx, owner).await?;
        let mut count = QueryBuilder::new("SELECT count(*)");
        push_transfer_filters(&mut count, owner, q);
        let count: i64 = count.build_query_scalar().fetch_one(&mut *tx).await?;
        let mut rows = QueryBuilder::new(format!("SELECT {TRANSFER_COLUMNS}"));
        push_transfer_filters(&mut rows, owner, q);
        rows.push(" ORDER BY t.id LIMIT ")
            .push_bind(page.limit)
            .push(" OFFSET ")
            .push_bind(page.offset);
        let results: Vec<TransferRow> = rows.build_query_as().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(Paginated {
            count,
            results: results.into_iter().map(TransferItem::from).collect(),
            seq,
        })
    }

    async fn get_transfer(&self, owner: UserId, id: Id) -> Result<TransferItem, StoreError> {
        let row: TransferRow = sqlx::query_as(&format!(
            "SELECT {TRANSFER_COLUMNS} FROM transfer_items t JOIN jobs ON jobs.id = t.job_id \
             WHERE t.id = $1 AND jobs.owner_id = $2"
        ))
        .bind(id)
        .bind(owner)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.into())
    }

    async fn update_transfers(
        &self,
        owner: UserId,
        patches: &[(Id, TransferPatch)],
    ) -> Result<Vec<TransferItem>, StoreError> {
        let ids: Vec<Id> = patches.iter().map(|(id, _)| *id).collect();
        let mut tx = self.write().await?;
        let owned: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT t.id, t.job_id FROM transfer_items t JOIN jobs ON jobs.id = t.job_id \
             WHERE t.id = ANY($2) AND jobs.owner_id + 0 = $1 FOR UPDATE OF t",
        )
        .bind(owner)
        .bind(&ids)
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
        sqlx::query(
            "UPDATE transfer_items SET \
               state = COALESCE(p->>'state', transfer_items.state), \
               task_id = COALESCE(p->>'task_id', transfer_items.task_id), \
               transfer_info = CASE WHEN p ? 'transfer_info' THEN p->'transfer_info' \
                   ELSE transfer_items.transfer_info END \
             FROM jsonb_array_elements($1) AS p WHERE transfer_items.id = (p->>'id')::bigint",
        )
        .bind(Json(Value::Array(doc)))
        .execute(&mut *tx)
        .await?;
        let rows: Vec<TransferRow> = sqlx::query_as(&format!(
            "SELECT {TRANSFER_COLUMNS} FROM transfer_items t WHERE t.id = ANY($1) ORDER BY t.id"
        ))
        .bind(&ids)
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
