//! `/batch-jobs`: scheduler allocations at the caller's Sites.
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
use balsam_types::job::parse_tag_filters;
use balsam_types::{BatchJob, BatchJobCreate, BatchJobPatch, BatchJobQuery, Paginated};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<ServerState> {
    OpenApiRouter::new()
        .routes(routes!(
            list_batch_jobs,
            create_batch_job,
            bulk_update_batch_jobs
        ))
        .routes(routes!(get_batch_job, update_batch_job, delete_batch_job))
}

/// List the caller's BatchJobs.
#[utoipa::path(get, path = "/batch-jobs/", tag = "batch-jobs",
    params(
        ("id" = Option<Vec<i64>>, Query), ("site_id" = Option<Vec<i64>>, Query),
        ("state" = Option<Vec<String>>, Query, description = "Not validated: unknown states match nothing"),
        ("scheduler_id" = Option<i64>, Query, description = "0 means no filter"),
        ("queue" = Option<String>, Query),
        ("start_time_before" = Option<String>, Query), ("start_time_after" = Option<String>, Query),
        ("end_time_before" = Option<String>, Query), ("end_time_after" = Option<String>, Query),
        ("filter_tags" = Option<Vec<String>>, Query, description = "key:value pairs"),
        ("ordering" = Option<String>, Query, description = "start_time or -start_time"),
        ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query),
    ),
    responses((status = 200, body = Paginated<BatchJob>, headers(("x-balsam-seq" = i64, description = "The event-log sequence number this page reflects"))), (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn list_batch_jobs(
    State(state): State<ServerState>,
    user: AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Listed<BatchJob>, ApiError> {
    let mut q = Query::parse(raw.as_deref());
    let query = BatchJobQuery {
        ids: q.ints("id"),
        site_ids: q.ints("site_id"),
        states: q.strings("state"),
        scheduler_id: q.int("scheduler_id"),
        queue: q.string("queue"),
        start_time_before: q.datetime("start_time_before"),
        start_time_after: q.datetime("start_time_after"),
        end_time_before: q.datetime("end_time_before"),
        end_time_after: q.datetime("end_time_after"),
        filter_tags: parse_tag_filters(&q.tag_filters("filter_tags")),
        order_by_start_time: q.enum_one("ordering", &["start_time", "-start_time"], |s| match s {
            "start_time" => Some(false),
            "-start_time" => Some(true),
            _ => None,
        }),
    };
    let page = q.page();
    q.finish()?;
    Ok(Listed(
        state.store.list_batch_jobs(user.id, &query, page).await?,
    ))
}

/// Create a BatchJob (state `pending_submission`) for the Site's scheduler service to submit.
#[utoipa::path(post, path = "/batch-jobs/", tag = "batch-jobs", request_body = BatchJobCreate,
    responses((status = 201, body = BatchJob), (status = 400, description = "No site with ID n"),
        (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn create_batch_job(
    State(state): State<ServerState>,
    user: AuthUser,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<BatchJob>), ApiError> {
    let create = BatchJobCreate::from_json(&body)?;
    let job = state.store.create_batch_job(user.id, &create).await?;
    tracing::info!(
        batch_job.id = job.id,
        site.id = job.site_id,
        "batch job created"
    );
    Ok((StatusCode::CREATED, Json(job)))
}

/// Update several BatchJobs (`id` + fields each). A `pending_deletion` BatchJob only
/// moves on to `finished`. Returns the updated BatchJobs by id.
#[utoipa::path(patch, path = "/batch-jobs/", tag = "batch-jobs", request_body = Vec<BatchJobPatch>,
    responses((status = 200, body = Vec<BatchJob>), (status = 400, description = "Could not find some Batch Job IDs"),
        (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn bulk_update_batch_jobs(
    State(state): State<ServerState>,
    user: AuthUser,
    JsonBody(body): JsonBody,
) -> Result<Json<Vec<BatchJob>>, ApiError> {
    let patches = BatchJobPatch::list_from_json(&body)?;
    match state.store.update_batch_jobs(user.id, &patches).await {
        Ok(jobs) => Ok(Json(jobs)),
        Err(StoreError::NotFound) => {
            Err(ApiError::bad_request("Could not find some Batch Job IDs"))
        }
        Err(err) => Err(err.into()),
    }
}

/// One of the caller's BatchJobs.
#[utoipa::path(get, path = "/batch-jobs/{batch_job_id}", tag = "batch-jobs",
    params(("batch_job_id" = i64, Path)),
    responses((status = 200, body = BatchJob), (status = 404, description = "Not found")),
    security(("bearer" = [])))]
async fn get_batch_job(
    State(state): State<ServerState>,
    user: AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<BatchJob>, ApiError> {
    let id = path_id(&raw, "batch_job_id")?;
    Ok(Json(state.store.get_batch_job(user.id, id).await?))
}

/// Update one BatchJob.
#[utoipa::path(put, path = "/batch-jobs/{batch_job_id}", tag = "batch-jobs",
    params(("batch_job_id" = i64, Path)), request_body = BatchJobPatch,
    responses((status = 200, body = BatchJob), (status = 404, description = "Not found"),
        (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn update_batch_job(
    State(state): State<ServerState>,
    user: AuthUser,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<BatchJob>, ApiError> {
    let id = path_id(&raw, "batch_job_id")?;
    let patch = BatchJobPatch::from_json(&body)?;
    let mut updated = state
        .store
        .update_batch_jobs(user.id, &[(id, patch)])
        .await?;
    updated.pop().map(Json).ok_or(ApiError::NotFound)
}

/// Delete a BatchJob; its jobs and sessions keep running, unlinked from it.
#[utoipa::path(delete, path = "/batch-jobs/{batch_job_id}", tag = "batch-jobs",
    params(("batch_job_id" = i64, Path)),
    responses((status = 204), (status = 404, description = "Not found")),
    security(("bearer" = [])))]
async fn delete_batch_job(
    State(state): State<ServerState>,
    user: AuthUser,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&raw, "batch_job_id")?;
    state.store.delete_batch_job(user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
