//! Sites, on both backends: the SQL differs only in [`Dialect`](super::Dialect) bits.
//!
//! Repetition note: each resource's listing, read, create and delete have the same shape on
//! purpose; the shared steps are `paged!`, `get_owned!`, `lock_owned!` and `commit_one`
//! (`shared/mod.rs`), and what repeats is each call with that resource's SQL.

pub(crate) const COLUMNS: &str = "id, name, path, globus_endpoint_id, backfill_windows, \
    queued_jobs, optional_batch_job_params, allowed_projects, allowed_queues, \
    transfer_locations, last_refresh, creation_date";

/// `impl SiteStore for $store`, where `$db` is the store's `sqlx::Database`.
macro_rules! site_store {
    ($store:ty, $db:ty) => {
        use crate::lifecycle;
        use crate::shared::sites::COLUMNS;
        use crate::shared::{push_id_list, Backend as _, Dialect};
        use crate::{SiteStore, StoreError};
        use balsam_types::{
            time, Id, Outbox, Page, Paginated, Site, SiteCreate, SiteQuery, SiteUpdate, UserId,
        };
        use serde_json::{Map, Value};
        use sqlx::types::Json;
        use sqlx::QueryBuilder;

        type Db = $db;

        #[derive(sqlx::FromRow)]
        struct SiteRow {
            id: i64,
            name: String,
            path: String,
            globus_endpoint_id: Option<<Db as Dialect>::Uuid>,
            backfill_windows: Json<Map<String, Value>>,
            queued_jobs: Json<Map<String, Value>>,
            optional_batch_job_params: Json<Map<String, Value>>,
            allowed_projects: Json<Vec<String>>,
            allowed_queues: Json<Map<String, Value>>,
            transfer_locations: Json<Map<String, Value>>,
            last_refresh: <Db as Dialect>::Time,
            creation_date: <Db as Dialect>::Time,
        }

        impl From<SiteRow> for Site {
            fn from(r: SiteRow) -> Self {
                Site {
                    id: r.id,
                    name: r.name,
                    path: r.path,
                    globus_endpoint_id: r.globus_endpoint_id.and_then(Db::from_uuid),
                    backfill_windows: r.backfill_windows.0,
                    queued_jobs: r.queued_jobs.0,
                    optional_batch_job_params: r.optional_batch_job_params.0,
                    allowed_projects: r.allowed_projects.0,
                    allowed_queues: r.allowed_queues.0,
                    transfer_locations: r.transfer_locations.0,
                    last_refresh: Db::from_time(r.last_refresh),
                    creation_date: Db::from_time(r.creation_date),
                }
            }
        }

        fn push_filters(b: &mut QueryBuilder<'_, Db>, owner: UserId, q: &SiteQuery) {
            b.push(" WHERE owner_id = ").push_bind(owner);
            if let Some(name) = &q.name {
                b.push(" AND name = ").push_bind(name.clone());
            }
            if let Some(path) = &q.path {
                b.push(format!(" AND {}(path, ", Db::STRPOS))
                    .push_bind(path.clone())
                    .push(") > 0");
            }
            if !q.ids.is_empty() {
                b.push(" AND id IN (");
                push_id_list(b, &q.ids);
            }
            if let Some(after) = &q.last_refresh_after {
                b.push(" AND last_refresh >= ").push_bind(Db::time(after));
            }
        }

        #[async_trait::async_trait]
        impl SiteStore for $store {
            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn create_site(&self, owner: UserId, s: &SiteCreate) -> Result<Site, StoreError> {
                let now = Db::time(&time::now());
                let mut tx = self.write().await?;
                let row: SiteRow = sqlx::query_as(&format!(
                    "INSERT INTO sites (owner_id, name, path, globus_endpoint_id, \
                     backfill_windows, queued_jobs, optional_batch_job_params, allowed_projects, \
                     allowed_queues, transfer_locations, last_refresh, creation_date) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING {COLUMNS}"
                ))
                .bind(owner)
                .bind(&s.name)
                .bind(&s.path)
                .bind(s.globus_endpoint_id.map(Db::uuid))
                .bind(Json(&s.backfill_windows))
                .bind(Json(&s.queued_jobs))
                .bind(Json(&s.optional_batch_job_params))
                .bind(Json(&s.allowed_projects))
                .bind(Json(&s.allowed_queues))
                .bind(Json(&s.transfer_locations))
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                self.commit_one(tx, owner, balsam_types::Action::Create, Site::from(row)).await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn list_sites(
                &self,
                owner: UserId,
                q: &SiteQuery,
                page: Page,
            ) -> Result<Paginated<Site>, StoreError> {
                crate::shared::paged!(self, owner, page, SiteRow,
                    select COLUMNS, from " FROM sites", filters push_filters(owner, q), order "id")
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner, id = id))]
            async fn get_site(&self, owner: UserId, id: Id) -> Result<Site, StoreError> {
                crate::shared::get_owned!(self, SiteRow, format!(
                    "SELECT {COLUMNS} FROM sites WHERE id = $1 AND owner_id = $2"
                ), id, owner)
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner, id = id))]
            async fn update_site(
                &self,
                owner: UserId,
                id: Id,
                u: &SiteUpdate,
            ) -> Result<Site, StoreError> {
                let mut b = QueryBuilder::<Db>::new("UPDATE sites SET last_refresh = ");
                b.push_bind(Db::time(&time::now()));
                if let Some(name) = &u.name {
                    b.push(", name = ").push_bind(name.clone());
                }
                if let Some(path) = &u.path {
                    b.push(", path = ").push_bind(path.clone());
                }
                if let Some(globus) = &u.globus_endpoint_id {
                    b.push(", globus_endpoint_id = ")
                        .push_bind(globus.map(Db::uuid));
                }
                let json_fields = [
                    ("backfill_windows", &u.backfill_windows),
                    ("queued_jobs", &u.queued_jobs),
                    ("optional_batch_job_params", &u.optional_batch_job_params),
                    ("allowed_queues", &u.allowed_queues),
                    ("transfer_locations", &u.transfer_locations),
                ];
                for (column, value) in json_fields {
                    if let Some(value) = value {
                        b.push(format!(", {column} = ")).push_bind(Json(value.clone()));
                    }
                }
                if let Some(projects) = &u.allowed_projects {
                    b.push(", allowed_projects = ")
                        .push_bind(Json(projects.clone()));
                }
                b.push(" WHERE id = ")
                    .push_bind(id)
                    .push(" AND owner_id = ")
                    .push_bind(owner)
                    .push(format!(" RETURNING {COLUMNS}"));
                let mut tx = self.write().await?;
                let row: SiteRow = b.build_query_as().fetch_one(&mut *tx).await?;
                self.commit_one(tx, owner, balsam_types::Action::Update, Site::from(row)).await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner, id = id))]
            async fn delete_site(&self, owner: UserId, id: Id) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                crate::shared::lock_owned!(
                    Db,
                    tx,
                    "SELECT id FROM sites WHERE id = $1 AND owner_id = $2",
                    id,
                    owner
                );
                let mut out = Outbox::new();
                lifecycle::delete_site_cascade(&mut *tx, id, &mut out).await?;
                sqlx::query("DELETE FROM sites WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                self.commit_with(tx, owner, out).await
            }
        }
    };
}
pub(crate) use site_store;
