//! Apps, on both backends: the SQL differs only in [`Dialect`](super::Dialect) bits.
//!
//! Repetition note: each resource's listing, read, create and delete have the same shape on
//! purpose; the shared steps are `paged!`, `get_owned!`, `lock_owned!` and `commit_one`
//! (`shared/mod.rs`), and what repeats is each call with that resource's SQL.

use balsam_types::App;
use serde_json::{Map, Value};
use sqlx::types::Json;

pub(crate) const COLUMNS: &str = "apps.id, apps.site_id, apps.name, apps.serialized_class, \
     apps.source_code, apps.description, apps.parameters, apps.transfers";

#[derive(sqlx::FromRow)]
pub(crate) struct AppRow {
    id: i64,
    site_id: i64,
    name: String,
    serialized_class: String,
    source_code: String,
    description: String,
    parameters: Json<Map<String, Value>>,
    transfers: Json<Map<String, Value>>,
}

impl From<AppRow> for App {
    fn from(r: AppRow) -> Self {
        App {
            id: r.id,
            site_id: r.site_id,
            name: r.name,
            serialized_class: r.serialized_class,
            source_code: r.source_code,
            description: r.description,
            parameters: r.parameters.0,
            transfers: r.transfers.0,
        }
    }
}

/// `impl AppStore for $store`, where `$db` is the store's `sqlx::Database`.
macro_rules! app_store {
    ($store:ty, $db:ty) => {
        use crate::lifecycle;
        use crate::shared::apps::{AppRow, COLUMNS};
        use crate::shared::{push_id_list, Backend as _, Dialect};
        use crate::{AppStore, StoreError};
        use balsam_types::{
            App, AppCreate, AppQuery, AppUpdate, Id, Outbox, Page, Paginated, UserId,
        };
        use sqlx::types::Json;
        use sqlx::QueryBuilder;

        type Db = $db;

        fn push_filters(b: &mut QueryBuilder<'_, Db>, owner: UserId, q: &AppQuery) {
            b.push(" FROM apps JOIN sites ON sites.id = apps.site_id WHERE sites.owner_id = ")
                .push_bind(owner);
            if !q.site_ids.is_empty() {
                b.push(" AND apps.site_id IN (");
                push_id_list(b, &q.site_ids);
            }
            if !q.ids.is_empty() {
                b.push(" AND apps.id IN (");
                push_id_list(b, &q.ids);
            }
            if let Some(name) = &q.name {
                b.push(" AND apps.name = ").push_bind(name.clone());
            }
            if let Some(path) = &q.site_path {
                b.push(format!(" AND {}(sites.path, ", Db::STRPOS))
                    .push_bind(path.clone())
                    .push(") > 0");
            }
            if let Some(site_name) = &q.site_name {
                b.push(" AND sites.name = ").push_bind(site_name.clone());
            }
        }

        #[async_trait::async_trait]
        impl AppStore for $store {
            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn create_app(&self, owner: UserId, a: &AppCreate) -> Result<App, StoreError> {
                let mut tx = self.write().await?;
                if !crate::shared::site_owned!(&mut *tx, owner, a.site_id) {
                    return Err(StoreError::NotFound);
                }
                let row: AppRow = sqlx::query_as(&format!(
                    "INSERT INTO apps (site_id, name, serialized_class, source_code, description, \
                     parameters, transfers) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {}",
                    COLUMNS.replace("apps.", "")
                ))
                .bind(a.site_id)
                .bind(&a.name)
                .bind(&a.serialized_class)
                .bind(&a.source_code)
                .bind(&a.description)
                .bind(Json(&a.parameters))
                .bind(Json(&a.transfers))
                .fetch_one(&mut *tx)
                .await?;
                self.commit_one(tx, owner, balsam_types::Action::Create, App::from(row)).await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
            async fn list_apps(
                &self,
                owner: UserId,
                q: &AppQuery,
                page: Page,
            ) -> Result<Paginated<App>, StoreError> {
                crate::shared::paged!(self, owner, page, AppRow,
                    select COLUMNS, from "", filters push_filters(owner, q), order "apps.id")
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner, id = id))]
            async fn get_app(&self, owner: UserId, id: Id) -> Result<App, StoreError> {
                crate::shared::get_owned!(self, AppRow, format!(
                    "SELECT {COLUMNS} FROM apps JOIN sites ON sites.id = apps.site_id \
                     WHERE apps.id = $1 AND sites.owner_id = $2"
                ), id, owner)
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner, id = id))]
            async fn update_app(
                &self,
                owner: UserId,
                id: Id,
                u: &AppUpdate,
            ) -> Result<App, StoreError> {
                let mut tx = self.write().await?;
                let current: Id = sqlx::query_scalar(
                    "SELECT apps.id FROM apps JOIN sites ON sites.id = apps.site_id \
                     WHERE apps.id = $1 AND sites.owner_id = $2",
                )
                .bind(id)
                .bind(owner)
                .fetch_one(&mut *tx)
                .await?;
                if let Some(site_id) = u.site_id {
                    if !crate::shared::site_owned!(&mut *tx, owner, site_id) {
                        return Err(StoreError::NotFound);
                    }
                    sqlx::query("UPDATE jobs SET site_id = $1 WHERE app_id = $2")
                        .bind(site_id)
                        .bind(current)
                        .execute(&mut *tx)
                        .await?;
                }
                let mut b = QueryBuilder::<Db>::new("UPDATE apps SET id = id");
                if let Some(site_id) = u.site_id {
                    b.push(", site_id = ").push_bind(site_id);
                }
                let text_fields = [
                    ("name", &u.name),
                    ("serialized_class", &u.serialized_class),
                    ("source_code", &u.source_code),
                    ("description", &u.description),
                ];
                for (column, value) in text_fields {
                    if let Some(value) = value {
                        b.push(format!(", {column} = ")).push_bind(value.clone());
                    }
                }
                let json_fields = [("parameters", &u.parameters), ("transfers", &u.transfers)];
                for (column, value) in json_fields {
                    if let Some(value) = value {
                        b.push(format!(", {column} = ")).push_bind(Json(value.clone()));
                    }
                }
                b.push(" WHERE id = ").push_bind(current);
                b.push(format!(" RETURNING {}", COLUMNS.replace("apps.", "")));
                let row: AppRow = b.build_query_as().fetch_one(&mut *tx).await?;
                let app = App::from(row);
                let mut out = Outbox::new();
                out.updated(&app);
                if u.site_id.is_some() {
                    out.mark_state_counts_changed(); // its jobs' counts moved with it
                }
                self.commit_with(tx, owner, out).await?;
                Ok(app)
            }

            #[tracing::instrument(level = "debug", skip_all, fields(owner = owner, id = id))]
            async fn delete_app(&self, owner: UserId, id: Id) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                crate::shared::lock_owned!(Db, tx, "SELECT id FROM apps WHERE id = $1 AND site_id IN \
                     (SELECT id FROM sites WHERE owner_id = $2)", id, owner);
                let mut out = Outbox::new();
                lifecycle::delete_app_cascade(&mut *tx, id, &mut out).await?;
                sqlx::query("DELETE FROM apps WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                self.commit_with(tx, owner, out).await
            }
        }
    };
}
pub(crate) use app_store;
