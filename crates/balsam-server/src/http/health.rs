//! Liveness, readiness and the Prometheus endpoint.

use crate::state::ServerState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use secrecy::ExposeSecret;
use serde_json::json;
use std::time::Instant;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<ServerState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
}

/// Liveness: the process answers. Checks nothing else.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "{\"status\":\"ok\"}")))]
async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness: the database answers and the channel layer can deliver (503 otherwise,
/// with what failed).
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, description = "ready"), (status = 503, description = "a dependency is down")))]
async fn ready(State(state): State<ServerState>) -> Response {
    let database = match state.store.ping().await {
        Ok(()) => "ok".to_owned(),
        Err(err) => format!("error: {err}"),
    };
    let channels = match state.channels.ready().await {
        Ok(()) => "ok".to_owned(),
        Err(err) => format!("error: {err}"),
    };
    let ok = database == "ok" && channels == "ok";
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ok { "ready" } else { "unavailable" },
        "database": {"backend": state.store.backend(), "status": database},
        "channels": {"layer": state.channels.name(), "status": channels},
    });
    (status, Json(body)).into_response()
}

/// `GET /metrics` (outside `/api/v1`), when `metrics.enabled` and a `metrics.bearer_token`
/// is set, for callers that send it as `Authorization: Bearer`.
pub async fn metrics(State(state): State<ServerState>, headers: HeaderMap) -> Response {
    let expected = state.config.metrics.bearer_token.expose_secret();
    if !state.config.metrics.enabled || expected.is_empty() {
        return (StatusCode::NOT_FOUND, Json(json!({"detail": "Not Found"}))).into_response();
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return crate::http::error::ApiError::InvalidToken.into_response();
    }
    let pool = state.store.pool_stats();
    metrics::gauge!(crate::metrics::DB_POOL_SIZE).set(f64::from(pool.size));
    metrics::gauge!(crate::metrics::DB_POOL_IDLE).set(f64::from(pool.idle));
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::handle().render(),
    )
        .into_response()
}

/// Compares without stopping at the first difference (the token's length aside).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Counts requests and their latency by method, route template and status.
pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "<unmatched>".to_owned(), |p| p.as_str().to_owned());
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!(crate::metrics::HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(crate::metrics::HTTP_DURATION, "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    res
}
