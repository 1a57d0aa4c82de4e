//! `/aggregates/…`: the dashboard's charts, bucketed by the store (a fixed number of
//! buckets per window), so drawing them never downloads the LogEvent history.
//!
//! Repetition note: handlers are spelled out one per operation, each with its own
//! `#[utoipa::path]` (its OpenAPI text), so their shape repeats across resources on purpose.

use crate::auth::AuthUser;
use crate::http::error::ApiError;
use crate::http::extract::Query;
use crate::http::response::ValidationErrorBody;
use crate::state::ServerState;
use axum::extract::{RawQuery, State};
use axum::Json;
use balsam_types::aggregates::{AggregateWindow, Throughput, Utilization};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<ServerState> {
    OpenApiRouter::new()
        .routes(routes!(throughput))
        .routes(routes!(utilization))
}

fn window(raw: Option<&str>) -> Result<AggregateWindow, ApiError> {
    let mut q = Query::parse(raw);
    let window = q
        .enum_one("window", AggregateWindow::NAMES, AggregateWindow::parse)
        .unwrap_or(AggregateWindow::Hour);
    q.finish()?;
    Ok(window)
}

/// Jobs finished (LogEvents into `JOB_FINISHED`) per bucket and Site: the last hour by
/// minute (default), the last 24 hours by quarter hour, or the last week by hour.
#[utoipa::path(get, path = "/aggregates/throughput", tag = "events",
    params(("window" = Option<String>, Query, description = "hour (default), day or week")),
    responses((status = 200, body = Throughput), (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn throughput(
    State(state): State<ServerState>,
    user: AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Json<Throughput>, ApiError> {
    let window = window(raw.as_deref())?;
    let now = balsam_types::time::now();
    Ok(Json(state.store.throughput(user.id, window, now).await?))
}

/// Nodes busy running jobs per bucket (at each bucket's start and its time-weighted
/// mean), as upstream's `utilization_report` counts them, over the same windows.
#[utoipa::path(get, path = "/aggregates/utilization", tag = "events",
    params(("window" = Option<String>, Query, description = "hour (default), day or week")),
    responses((status = 200, body = Utilization), (status = 422, body = ValidationErrorBody)),
    security(("bearer" = [])))]
async fn utilization(
    State(state): State<ServerState>,
    user: AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Json<Utilization>, ApiError> {
    let window = window(raw.as_deref())?;
    let now = balsam_types::time::now();
    Ok(Json(state.store.utilization(user.id, window, now).await?))
}
