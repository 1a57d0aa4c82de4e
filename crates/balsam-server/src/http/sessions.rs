//! `/sessions`: launcher and processing-service sessions, their heartbeats and the
//! acquire hot path (`POST /sessions/{id}`).
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
use balsam_types::{Job, Paginated, Session, SessionAcquire, SessionCreate};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<ServerState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions, create_session))
        .routes(routes!(acquire_jobs, tick_session, delete_session))
}

/// Expires the caller's stale sessions (upstream's on-call sweep; a background task
/// sweeps everyone's as well).
async fn sweep(state: &ServerState, user: &AuthUser) -> Result<(), ApiError> {
    let cutoff = balsam_types::time::now()
        - chrono::Duration::seconds(
            i64::try_from(state.config.sessions.expire_after_secs).unwrap_or(300),
        );
    state.store.sweep_sessions(Some(user.id), cutoff).await?;
    Ok(())
}

/// List the caller's sessions (no pagination).
#[utoipa::path(get, path = "/sessions/", tag = "sessions",
    params(("id" = Option<Vec<i64>>, Query)),
    responses((status = 200, body = Paginated<Session>, headers(("x-balsam-seq" = i64, description = "The event-log sequence number this page reflects")))),
    security(("bearer" = [])))]
async fn list_sessions(
    State(state): State<ServerState>,
    user: AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Listed<Session>, ApiError> {
    let mut q = Query::parse(raw.as_deref());
    let ids = q.ints("id");
    q.finish()?;
    Ok(Listed(state.store.list_sessions(user.id, &ids).await?))
}

/// Open a session at one of the caller's Sites, optionally inside a BatchJob there.
#[utoipa::path(post, path = "/sessions/", tag = "sessions", request_body = SessionCreate,
    responses((status = 201, body = Session), (status = 400, description = "No site / batch_job with that id"),
        (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn create_session(
    State(state): State<ServerState>,
    user: AuthUser,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    let create = SessionCreate::from_json(&body)?;
    sweep(&state, &user).await?;
    let session = state.store.create_session(user.id, &create).await?;
    tracing::info!(
        session.id = session.id,
        site.id = session.site_id,
        "session opened"
    );
    Ok((StatusCode::CREATED, Json(session)))
}

/// Acquire (lock) up to `max_num_jobs` eligible jobs for this session. Also a heartbeat.
#[utoipa::path(post, path = "/sessions/{session_id}", tag = "sessions",
    params(("session_id" = i64, Path)), request_body = SessionAcquire,
    responses((status = 200, body = Vec<Job>), (status = 404, description = "Not found (or expired)"),
        (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn acquire_jobs(
    State(state): State<ServerState>,
    user: AuthUser,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Vec<Job>>, ApiError> {
    let id = path_id(&raw, "session_id")?;
    let spec = SessionAcquire::from_json(&body)?;
    let jobs = state.store.acquire_jobs(user.id, id, &spec).await?;
    tracing::debug!(session.id = id, job.count = jobs.len(), "jobs acquired");
    Ok(Json(jobs))
}

/// Heartbeat: keeps the session alive. Answers `null`.
#[utoipa::path(put, path = "/sessions/{session_id}", tag = "sessions",
    params(("session_id" = i64, Path)),
    responses((status = 200, description = "null"), (status = 404, description = "Not found (or expired)")),
    security(("bearer" = [])))]
async fn tick_session(
    State(state): State<ServerState>,
    user: AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<()>, ApiError> {
    let id = path_id(&raw, "session_id")?;
    state.store.tick_session(user.id, id).await?;
    sweep(&state, &user).await?;
    Ok(Json(()))
}

/// End a session: its RUNNING jobs become RUN_TIMEOUT, the others are unlocked.
#[utoipa::path(delete, path = "/sessions/{session_id}", tag = "sessions",
    params(("session_id" = i64, Path)),
    responses((status = 204), (status = 404, description = "Not found")),
    security(("bearer" = [])))]
async fn delete_session(
    State(state): State<ServerState>,
    user: AuthUser,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&raw, "session_id")?;
    state.store.delete_session(user.id, id).await?;
    tracing::info!(session.id = id, "session closed");
    Ok(StatusCode::NO_CONTENT)
}
