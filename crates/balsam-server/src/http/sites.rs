//! `/sites`: the caller's Balsam Sites.
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
use balsam_types::{Paginated, Site, SiteCreate, SiteQuery, SiteUpdate};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<ServerState> {
    OpenApiRouter::new()
        .routes(routes!(list_sites, create_site))
        .routes(routes!(get_site, update_site, delete_site))
}

const DUPLICATE: &str = "A site with this name already exists";

fn duplicate_name(err: StoreError) -> ApiError {
    match err {
        StoreError::Conflict { .. } => ApiError::bad_request(DUPLICATE),
        other => other.into(),
    }
}

/// List the caller's Sites, by ascending id.
#[utoipa::path(get, path = "/sites/", tag = "sites",
    params(
        ("name" = Option<String>, Query, description = "Exact name"),
        ("path" = Option<String>, Query, description = "Substring of the path (case-sensitive)"),
        ("id" = Option<Vec<i64>>, Query, description = "Any of these ids (repeat the key)"),
        ("last_refresh_after" = Option<String>, Query, description = "last_refresh >= this datetime"),
        ("limit" = Option<i64>, Query, description = "0..=100000, default 100000"),
        ("offset" = Option<i64>, Query, description = ">= 0, default 0"),
    ),
    responses((status = 200, body = Paginated<Site>, headers(("x-balsam-seq" = i64, description = "The event-log sequence number this page reflects"))), (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn list_sites(
    State(state): State<ServerState>,
    user: AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Listed<Site>, ApiError> {
    let mut q = Query::parse(raw.as_deref());
    let query = SiteQuery {
        name: q.string("name"),
        path: q.string("path"),
        ids: q.ints("id"),
        last_refresh_after: q.datetime("last_refresh_after"),
    };
    let page = q.page();
    q.finish()?;
    Ok(Listed(state.store.list_sites(user.id, &query, page).await?))
}

/// Register a Site. Its name must be unique among the caller's Sites.
#[utoipa::path(post, path = "/sites/", tag = "sites", request_body = SiteCreate,
    responses((status = 201, body = Site), (status = 400, description = "A site with this name already exists"),
        (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn create_site(
    State(state): State<ServerState>,
    user: AuthUser,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Site>), ApiError> {
    let site = SiteCreate::from_json(&body)?;
    let created = state
        .store
        .create_site(user.id, &site)
        .await
        .map_err(duplicate_name)?;
    tracing::info!(site.id = created.id, "site created");
    Ok((StatusCode::CREATED, Json(created)))
}

/// One of the caller's Sites.
#[utoipa::path(get, path = "/sites/{site_id}", tag = "sites",
    params(("site_id" = i64, Path)),
    responses((status = 200, body = Site), (status = 404, description = "Not found")),
    security(("bearer" = [])))]
async fn get_site(
    State(state): State<ServerState>,
    user: AuthUser,
    Path(site_id): Path<String>,
) -> Result<Json<Site>, ApiError> {
    let id = path_id(&site_id, "site_id")?;
    Ok(Json(state.store.get_site(user.id, id).await?))
}

/// Update a Site: the fields present are written and `last_refresh` (the Site's
/// heartbeat) is set to now, even for an empty body.
#[utoipa::path(put, path = "/sites/{site_id}", tag = "sites",
    params(("site_id" = i64, Path)), request_body = SiteUpdate,
    responses((status = 200, body = Site), (status = 400, description = "Name already taken"),
        (status = 404, description = "Not found"), (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn update_site(
    State(state): State<ServerState>,
    user: AuthUser,
    Path(site_id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Site>, ApiError> {
    let id = path_id(&site_id, "site_id")?;
    let update = SiteUpdate::from_json(&body)?;
    let site = state
        .store
        .update_site(user.id, id, &update)
        .await
        .map_err(duplicate_name)?;
    Ok(Json(site))
}

/// Delete a Site with its Apps, Jobs, BatchJobs, Sessions, TransferItems and LogEvents.
#[utoipa::path(delete, path = "/sites/{site_id}", tag = "sites",
    params(("site_id" = i64, Path)),
    responses((status = 204), (status = 404, description = "Not found")),
    security(("bearer" = [])))]
async fn delete_site(
    State(state): State<ServerState>,
    user: AuthUser,
    Path(site_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&site_id, "site_id")?;
    state.store.delete_site(user.id, id).await?;
    tracing::info!(site.id = id, "site deleted");
    Ok(StatusCode::NO_CONTENT)
}
