//! `/jobs`: bulk create, list with every filter, the three update forms, deletes, and the
//! site-wise state counts (our extension).
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
use balsam_store::JobUpdate;
use balsam_types::job::{parse_job_ordering, parse_tag_filters, JOB_ORDERINGS};
use balsam_types::{
    Job, JobBulkPatch, JobCreate, JobPatch, JobQuery, JobState, Paginated, SiteStateCounts,
};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<ServerState> {
    OpenApiRouter::new()
        .routes(routes!(
            list_jobs,
            bulk_create_jobs,
            bulk_update_jobs,
            query_update_jobs,
            query_delete_jobs
        ))
        .routes(routes!(job_state_counts))
        .routes(routes!(get_job, update_job, delete_job))
}

/// The JobQuery filters shared by `GET`, `PUT` and `DELETE /jobs/` (documentation only:
/// they are parsed by [`job_query`] with FastAPI's error shapes).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "documents the query parameters in the OpenAPI document"
)]
struct JobQueryParams {
    /// Any of these ids (repeat the key).
    id: Option<Vec<i64>>,
    /// Children of any of these jobs.
    parent_id: Option<Vec<i64>>,
    /// This App; 0 means no filter.
    app_id: Option<i64>,
    /// At any of these Sites.
    site_id: Option<Vec<i64>>,
    /// Ran in this BatchJob; 0 means no filter.
    batch_job_id: Option<i64>,
    last_update_before: Option<String>,
    last_update_after: Option<String>,
    #[param(rename = "workdir__contains")]
    workdir_contains: Option<String>,
    state: Option<Vec<JobState>>,
    #[param(rename = "state__ne")]
    state_ne: Option<JobState>,
    /// `key:value` pairs the job's tags must all contain.
    tags: Option<Vec<String>>,
    /// Only `true` filters.
    pending_file_cleanup: Option<bool>,
}

/// One item of `PATCH /jobs/`: the job's id and its own update fields.
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "documents the request body in the OpenAPI document"
)]
struct JobBulkUpdate {
    id: i64,
    #[schema(inline)]
    #[serde(flatten)]
    patch: JobPatch,
}

/// Parses the JobQuery filters shared by `GET`, `PUT` and `DELETE /jobs/`.
pub(crate) fn job_query(q: &mut Query) -> JobQuery {
    let names = JobState::names();
    JobQuery {
        ids: q.ints("id"),
        parent_ids: q.ints("parent_id"),
        app_id: q.int("app_id"),
        site_ids: q.ints("site_id"),
        batch_job_id: q.int("batch_job_id"),
        last_update_before: q.datetime("last_update_before"),
        last_update_after: q.datetime("last_update_after"),
        workdir_contains: q.string("workdir__contains"),
        states: q.enums("state", &names, JobState::parse),
        state_ne: q.enum_one("state__ne", &names, JobState::parse),
        tags: parse_tag_filters(&q.tag_filters("tags")),
        pending_file_cleanup: q.bool("pending_file_cleanup").unwrap_or(false),
        ordering: q.enum_one("ordering", JOB_ORDERINGS, parse_job_ordering),
    }
}

/// List the caller's jobs.
#[utoipa::path(get, path = "/jobs/", tag = "jobs",
    params(
        JobQueryParams,
        ("ordering" = Option<String>, Query, description = "last_update, id, state or workdir; `-` for descending"),
        ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query),
    ),
    responses((status = 200, body = Paginated<Job>, headers(("x-balsam-seq" = i64, description = "The event-log sequence number this page reflects"))), (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn list_jobs(
    State(state): State<ServerState>,
    user: AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Listed<Job>, ApiError> {
    let mut q = Query::parse(raw.as_deref());
    let query = job_query(&mut q);
    let page = q.page();
    q.finish()?;
    Ok(Listed(state.store.list_jobs(user.id, &query, page).await?))
}

/// Create up to 5000 jobs in one call, with their parents and transfers. Returns them in
/// request order.
#[utoipa::path(post, path = "/jobs/", tag = "jobs", request_body = Vec<JobCreate>,
    responses((status = 201, body = Vec<Job>),
        (status = 400, description = "Too many jobs, duplicate workdirs or an unknown transfer slot/location"),
        (status = 404, description = "An app_id or parent id is not the caller's"),
        (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn bulk_create_jobs(
    State(state): State<ServerState>,
    user: AuthUser,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Vec<Job>>), ApiError> {
    let jobs = JobCreate::list_from_json(&body)?;
    let created = state.store.create_jobs(user.id, &jobs).await?;
    tracing::info!(job.count = created.len(), "jobs created");
    Ok((StatusCode::CREATED, Json(created)))
}

/// Update jobs, each with its own patch (`id` + fields). All or nothing.
#[utoipa::path(patch, path = "/jobs/", tag = "jobs", request_body = Vec<JobBulkUpdate>,
    responses((status = 200, body = i64, content_type = "application/json", description = "Number of jobs updated"),
        (status = 400, description = "Unknown or duplicate ids, or more than 5000"),
        (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn bulk_update_jobs(
    State(state): State<ServerState>,
    user: AuthUser,
    JsonBody(body): JsonBody,
) -> Result<Json<u64>, ApiError> {
    let patches = JobBulkPatch::list_from_json(&body)?;
    let n = state
        .store
        .update_jobs(user.id, JobUpdate::Patches(&patches))
        .await?;
    Ok(Json(n))
}

/// Apply one patch to every job matching the filters (at most 5000).
#[utoipa::path(put, path = "/jobs/", tag = "jobs", request_body = JobPatch, params(JobQueryParams),
    responses((status = 200, body = i64, content_type = "application/json", description = "Number of jobs updated"),
        (status = 400, description = "More than 5000 jobs match"), (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn query_update_jobs(
    State(state): State<ServerState>,
    user: AuthUser,
    RawQuery(raw): RawQuery,
    JsonBody(body): JsonBody,
) -> Result<Json<u64>, ApiError> {
    let mut q = Query::parse(raw.as_deref());
    let query = job_query(&mut q);
    q.finish()?;
    let patch = JobPatch::from_json(&body)?;
    let n = state
        .store
        .update_jobs(user.id, JobUpdate::Query(&query, &patch))
        .await?;
    Ok(Json(n))
}

/// Delete every matching job that no Session holds (all of the caller's without filters).
#[utoipa::path(delete, path = "/jobs/", tag = "jobs", params(JobQueryParams),
    responses((status = 204), (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn query_delete_jobs(
    State(state): State<ServerState>,
    user: AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<StatusCode, ApiError> {
    let mut q = Query::parse(raw.as_deref());
    let query = job_query(&mut q);
    q.finish()?;
    let n = state.store.delete_jobs(user.id, &query).await?;
    tracing::info!(job.count = n, "jobs deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Job counts per Site and state, in one call (an extension: upstream's CLI sends one
/// count query per state).
#[utoipa::path(get, path = "/jobs/state-counts", tag = "jobs",
    responses((status = 200, body = Vec<SiteStateCounts>)),
    security(("bearer" = [])))]
async fn job_state_counts(
    State(state): State<ServerState>,
    user: AuthUser,
) -> Result<Json<Vec<SiteStateCounts>>, ApiError> {
    Ok(Json(state.store.job_state_counts(user.id).await?))
}

/// One of the caller's jobs.
#[utoipa::path(get, path = "/jobs/{job_id}", tag = "jobs", params(("job_id" = i64, Path)),
    responses((status = 200, body = Job), (status = 404, description = "Not found")),
    security(("bearer" = [])))]
async fn get_job(
    State(state): State<ServerState>,
    user: AuthUser,
    Path(job_id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    let id = path_id(&job_id, "job_id")?;
    Ok(Json(state.store.get_job(user.id, id).await?))
}

/// Update one job. Answers `1`; a missing job is a 400, as upstream.
#[utoipa::path(put, path = "/jobs/{job_id}", tag = "jobs", params(("job_id" = i64, Path)),
    request_body = JobPatch,
    responses((status = 200, body = i64, content_type = "application/json"), (status = 400, description = "Could not find some Job IDs"),
        (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn update_job(
    State(state): State<ServerState>,
    user: AuthUser,
    Path(job_id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<u64>, ApiError> {
    let id = path_id(&job_id, "job_id")?;
    let patch = JobPatch::from_json(&body)?;
    Ok(Json(
        state
            .store
            .update_jobs(user.id, JobUpdate::One(id, &patch))
            .await?,
    ))
}

/// Delete one job; a job held by a Session is skipped (still 204).
#[utoipa::path(delete, path = "/jobs/{job_id}", tag = "jobs", params(("job_id" = i64, Path)),
    responses((status = 204), (status = 404, description = "Not found")),
    security(("bearer" = [])))]
async fn delete_job(
    State(state): State<ServerState>,
    user: AuthUser,
    Path(job_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&job_id, "job_id")?;
    state.store.delete_job(user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
