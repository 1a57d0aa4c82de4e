//! `/transfers` and `/events`: TransferItems (updated by the Site transfer service) and
//! the LogEvent history.
//!
//! Repetition note: handlers are spelled out one per operation, each with its own
//! `#[utoipa::path]` (its OpenAPI text), so their shape repeats across resources on purpose.

use crate::auth::AuthUser;
use crate::http::error::ApiError;
use crate::http::extract::{path_id, JsonBody, Query};
use crate::http::response::{Listed, ValidationErrorBody};
use crate::state::ServerState;
use axum::extract::{Path, RawQuery, State};
use axum::Json;
use balsam_store::StoreError;
use balsam_types::job::parse_tag_filters;
use balsam_types::transfer::TRANSFER_STATES;
use balsam_types::{EventQuery, LogEvent, Paginated, TransferItem, TransferPatch, TransferQuery};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<ServerState> {
    OpenApiRouter::new()
        .routes(routes!(list_transfers, bulk_update_transfers))
        .routes(routes!(get_transfer, update_transfer))
        .routes(routes!(list_events))
}

/// List the caller's TransferItems.
#[utoipa::path(get, path = "/transfers/", tag = "transfers",
    params(
        ("id" = Option<Vec<i64>>, Query), ("site_id" = Option<i64>, Query),
        ("job_id" = Option<Vec<i64>>, Query), ("state" = Option<Vec<String>>, Query),
        ("direction" = Option<String>, Query, description = "in or out"),
        ("job_state" = Option<String>, Query), ("tags" = Option<Vec<String>>, Query),
        ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query),
    ),
    responses((status = 200, body = Paginated<TransferItem>, headers(("x-balsam-seq" = i64, description = "The event-log sequence number this page reflects"))), (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn list_transfers(
    State(state): State<ServerState>,
    user: AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Listed<TransferItem>, ApiError> {
    let mut q = Query::parse(raw.as_deref());
    let query = TransferQuery {
        ids: q.ints("id"),
        site_id: q.int("site_id"),
        job_ids: q.ints("job_id"),
        states: q.enums("state", TRANSFER_STATES, |s| {
            Some(s.to_owned()).filter(|s| TRANSFER_STATES.contains(&s.as_str()))
        }),
        direction: q.enum_one("direction", &["in", "out"], |s| {
            Some(s.to_owned()).filter(|s| s == "in" || s == "out")
        }),
        job_state: q.string("job_state"),
        tags: parse_tag_filters(&q.tag_filters("tags")),
    };
    let page = q.page();
    q.finish()?;
    Ok(Listed(
        state.store.list_transfers(user.id, &query, page).await?,
    ))
}

/// Update several TransferItems (`id` + state/task_id/transfer_info); jobs whose
/// transfers are then all done move on.
#[utoipa::path(patch, path = "/transfers/", tag = "transfers", request_body = Vec<TransferPatch>,
    responses((status = 200, body = Vec<TransferItem>), (status = 400, description = "Some TransferItems not found"),
        (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn bulk_update_transfers(
    State(state): State<ServerState>,
    user: AuthUser,
    JsonBody(body): JsonBody,
) -> Result<Json<Vec<TransferItem>>, ApiError> {
    let patches = TransferPatch::list_from_json(&body)?;
    match state.store.update_transfers(user.id, &patches).await {
        Ok(items) => Ok(Json(items)),
        Err(StoreError::NotFound) => Err(ApiError::bad_request("Some TransferItems not found")),
        Err(err) => Err(err.into()),
    }
}

/// One of the caller's TransferItems.
#[utoipa::path(get, path = "/transfers/{transfer_id}", tag = "transfers",
    params(("transfer_id" = i64, Path)),
    responses((status = 200, body = TransferItem), (status = 404, description = "Not found")),
    security(("bearer" = [])))]
async fn get_transfer(
    State(state): State<ServerState>,
    user: AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<TransferItem>, ApiError> {
    let id = path_id(&raw, "transfer_id")?;
    Ok(Json(state.store.get_transfer(user.id, id).await?))
}

/// Update one TransferItem.
#[utoipa::path(put, path = "/transfers/{transfer_id}", tag = "transfers",
    params(("transfer_id" = i64, Path)), request_body = TransferPatch,
    responses((status = 200, body = TransferItem), (status = 404, description = "Not found"),
        (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn update_transfer(
    State(state): State<ServerState>,
    user: AuthUser,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<TransferItem>, ApiError> {
    let id = path_id(&raw, "transfer_id")?;
    let patch = TransferPatch::from_json(&body)?;
    let mut items = state
        .store
        .update_transfers(user.id, &[(id, patch)])
        .await?;
    items.pop().map(Json).ok_or(ApiError::NotFound)
}

/// The caller's LogEvents (job state changes), newest first by default.
#[utoipa::path(get, path = "/events/", tag = "events",
    params(
        ("id" = Option<Vec<i64>>, Query), ("job_id" = Option<Vec<i64>>, Query),
        ("batch_job_id" = Option<i64>, Query), ("scheduler_id" = Option<i64>, Query),
        ("tags" = Option<Vec<String>>, Query), ("data" = Option<Vec<String>>, Query),
        ("timestamp_before" = Option<String>, Query), ("timestamp_after" = Option<String>, Query),
        ("from_state" = Option<String>, Query), ("to_state" = Option<String>, Query),
        ("ordering" = Option<String>, Query, description = "timestamp or -timestamp (default)"),
        ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query),
    ),
    responses((status = 200, body = Paginated<LogEvent>, headers(("x-balsam-seq" = i64, description = "The event-log sequence number this page reflects"))), (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn list_events(
    State(state): State<ServerState>,
    user: AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Listed<LogEvent>, ApiError> {
    let mut q = Query::parse(raw.as_deref());
    let query = EventQuery {
        ids: q.ints("id"),
        job_ids: q.ints("job_id"),
        batch_job_id: q.int("batch_job_id"),
        scheduler_id: q.int("scheduler_id"),
        tags: parse_tag_filters(&q.tag_filters("tags")),
        data: parse_tag_filters(&q.tag_filters("data")),
        timestamp_before: q.datetime("timestamp_before"),
        timestamp_after: q.datetime("timestamp_after"),
        from_state: q.string("from_state"),
        to_state: q.string("to_state"),
        newest_first: q
            .enum_one("ordering", &["timestamp", "-timestamp"], |s| match s {
                "timestamp" => Some(false),
                "-timestamp" => Some(true),
                _ => None,
            })
            .unwrap_or(true),
    };
    let page = q.page();
    q.finish()?;
    Ok(Listed(
        state.store.list_events(user.id, &query, page).await?,
    ))
}
