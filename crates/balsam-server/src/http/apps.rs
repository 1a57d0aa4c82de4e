//! `/apps`: ApplicationDefinition index entries registered at the caller's Sites.
//!
//! Repetition note: handlers are spelled out one per operation, each with its own
//! `#[utoipa::path]` (its OpenAPI text), so their shape repeats across resources on purpose.

use crate::auth::AuthUser;
use crate::http::error::ApiError;
use crate::http::extract::{path_id, JsonBody, Query};
use crate::http::response::{Listed, ValidationErrorBody};
use crate::state::ServerState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use balsam_store::StoreError;
use balsam_types::{App, AppCreate, AppQuery, AppUpdate, Paginated};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<ServerState> {
    OpenApiRouter::new()
        .routes(routes!(list_apps, create_app))
        .routes(routes!(get_app, update_app, delete_app))
}

fn duplicate_name(err: StoreError) -> ApiError {
    match err {
        StoreError::Conflict { .. } => {
            ApiError::bad_request("An app with this site_id and name already exists")
        }
        other => other.into(),
    }
}

/// List the caller's Apps, by ascending id.
#[utoipa::path(get, path = "/apps/", tag = "apps",
    params(
        ("site_id" = Option<Vec<i64>>, Query, description = "At any of these Sites"),
        ("id" = Option<Vec<i64>>, Query, description = "Any of these ids"),
        ("name" = Option<String>, Query, description = "Exact class name"),
        ("site_path" = Option<String>, Query, description = "Substring of the Site's path"),
        ("site_name" = Option<String>, Query, description = "Exact name of the Site"),
        ("limit" = Option<i64>, Query, description = "0..=100000, default 100000"),
        ("offset" = Option<i64>, Query, description = ">= 0, default 0"),
    ),
    responses((status = 200, body = Paginated<App>, headers(("x-balsam-seq" = i64, description = "The event-log sequence number this page reflects"))), (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn list_apps(
    State(state): State<ServerState>,
    user: AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Listed<App>, ApiError> {
    let mut q = Query::parse(raw.as_deref());
    let query = AppQuery {
        site_ids: q.ints("site_id"),
        ids: q.ints("id"),
        name: q.string("name"),
        site_path: q.string("site_path"),
        site_name: q.string("site_name"),
    };
    let page = q.page();
    q.finish()?;
    Ok(Listed(state.store.list_apps(user.id, &query, page).await?))
}

/// Register an App at one of the caller's Sites.
#[utoipa::path(post, path = "/apps/", tag = "apps", request_body = AppCreate,
    responses((status = 201, body = App),
        (status = 400, description = "An app with this site_id and name already exists"),
        (status = 404, description = "site_id is not one of the caller's Sites"),
        (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn create_app(
    State(state): State<ServerState>,
    user: AuthUser,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<App>), ApiError> {
    let create = AppCreate::from_json(&body)?;
    let created = state
        .store
        .create_app(user.id, &create)
        .await
        .map_err(duplicate_name)?;
    tracing::info!(
        app.id = created.id,
        site.id = created.site_id,
        "app created"
    );
    Ok((StatusCode::CREATED, Json(created)))
}

/// One of the caller's Apps.
#[utoipa::path(get, path = "/apps/{app_id}", tag = "apps",
    params(("app_id" = i64, Path)),
    responses((status = 200, body = App), (status = 404, description = "Not found")),
    security(("bearer" = [])))]
async fn get_app(
    State(state): State<ServerState>,
    user: AuthUser,
    Path(app_id): Path<String>,
) -> Result<Json<App>, ApiError> {
    let id = path_id(&app_id, "app_id")?;
    Ok(Json(state.store.get_app(user.id, id).await?))
}

/// Update an App: the fields present are written. Moving it to another Site requires
/// owning that Site.
#[utoipa::path(put, path = "/apps/{app_id}", tag = "apps",
    params(("app_id" = i64, Path)), request_body = AppUpdate,
    responses((status = 200, body = App),
        (status = 400, description = "An app with this site_id and name already exists"),
        (status = 404, description = "Not found"), (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn update_app(
    State(state): State<ServerState>,
    user: AuthUser,
    Path(app_id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<App>, ApiError> {
    let id = path_id(&app_id, "app_id")?;
    let update = AppUpdate::from_json(&body)?;
    let updated = state
        .store
        .update_app(user.id, id, &update)
        .await
        .map_err(duplicate_name)?;
    Ok(Json(updated))
}

/// Delete an App with all of its Jobs.
#[utoipa::path(delete, path = "/apps/{app_id}", tag = "apps",
    params(("app_id" = i64, Path)),
    responses((status = 204), (status = 404, description = "Not found")),
    security(("bearer" = [])))]
async fn delete_app(
    State(state): State<ServerState>,
    user: AuthUser,
    Path(app_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&app_id, "app_id")?;
    state.store.delete_app(user.id, id).await?;
    tracing::info!(app.id = id, "app deleted");
    Ok(StatusCode::NO_CONTENT)
}
