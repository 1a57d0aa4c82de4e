//! The HTTP surface: every API route under `/api/v1/`, the OpenAPI document and docs page,
//! upstream's 404/405 bodies, and (optionally) the web client at `/`.

pub mod aggregates;
pub mod apps;
pub mod auth;
pub mod batch_jobs;
mod docs;
pub mod error;
pub mod export;
pub mod extract;
mod health;
pub mod jobs;
pub mod response;
pub mod sessions;
pub mod sites;
pub mod spa;
pub mod transfers;
pub mod ws;

pub use response::{Listed, ValidationErrorBody, SEQ_HEADER};

use crate::state::ServerState;
use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::{Json, Router};
use std::time::Duration;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

/// Where the API is mounted; users give `http(s)://HOST/api/v1` to `balsam login`.
pub const API_PREFIX: &str = "/api/v1";

/// Collections that upstream also serves without the trailing slash (via a 307).
const COLLECTIONS: &[&str] = &[
    "sites",
    "apps",
    "jobs",
    "batch-jobs",
    "sessions",
    "transfers",
    "events",
];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Balsam API",
        version = "0.1.0",
        description = "balsam-rs: the Balsam central service, wire-compatible with the \
            official Python client (balsam 0.7.0a24). Log in with POST /auth/password/login \
            and send `Authorization: Bearer <access_token>`."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Login-method discovery, password registration and login"),
        (name = "sites", description = "Balsam Sites: one per Site agent"),
        (name = "apps", description = "ApplicationDefinitions registered at Sites"),
        (name = "jobs", description = "Jobs: bulk create, filters, the state machine, state counts"),
        (name = "batch-jobs", description = "Scheduler allocations at Sites"),
        (name = "sessions", description = "Launcher sessions: heartbeats and job acquisition"),
        (name = "transfers", description = "Stage-in and stage-out items of jobs"),
        (name = "events", description = "LogEvents: the history of job state changes, and the live event stream"),
        (name = "operations", description = "Liveness and readiness"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Declares the answers every operation can give besides its own: 401 where a token is
/// required, 422 where there is input to validate, 413 where there is a body.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let detail = |text: &str| ResponseBuilder::new().description(text).build();
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_input = op.parameters.as_ref().is_some_and(|p| !p.is_empty())
                    || op.request_body.is_some()
                    || secured;
                let responses = &mut op.responses.responses;
                if secured {
                    responses.entry("401".into()).or_insert_with(|| {
                        detail("Missing, malformed, expired or revoked token").into()
                    });
                }
                if has_input {
                    responses.entry("422".into()).or_insert_with(|| {
                        ResponseBuilder::new()
                            .description("Validation error")
                            .content(
                                "application/json",
                                ContentBuilder::new()
                                    .schema(Some(Ref::from_schema_name("ValidationErrorBody")))
                                    .build(),
                            )
                            .build()
                            .into()
                    });
                }
                if op.request_body.is_some() {
                    responses.entry("413".into()).or_insert_with(|| {
                        detail("Body larger than the configured limit (http.max_body_mib)").into()
                    });
                }
            }
        }
    }
}

/// The API routes with their OpenAPI document.
fn api() -> (Router<ServerState>, utoipa::openapi::OpenApi) {
    let router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::routes())
        .merge(sites::routes())
        .merge(apps::routes())
        .merge(jobs::routes())
        .merge(batch_jobs::routes())
        .merge(sessions::routes())
        .merge(transfers::routes())
        .merge(aggregates::routes())
        .merge(export::routes())
        .merge(health::routes())
        .routes(utoipa_axum::routes!(ws::subscribe_user));
    let (router, mut doc) = router.split_for_parts();
    // After the routes are in: `#[openapi(modifiers)]` run before any path exists.
    CommonResponses.modify(&mut doc);
    (router, doc)
}

/// The OpenAPI document as served at `/api/v1/openapi.json` (paths relative to it).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = api();
    doc.servers = Some(vec![utoipa::openapi::Server::new(API_PREFIX)]);
    doc
}

/// The whole application router.
pub fn router(state: ServerState) -> Router {
    let (api, _) = api();
    let doc = openapi();
    let doc_json = std::sync::Arc::new(doc.to_pretty_json().unwrap_or_default());
    let api = api
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let doc_json = doc_json.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        doc_json.as_str().to_owned(),
                    )
                }
            }),
        )
        .merge(docs::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(health::track));

    let http = &state.config.http;
    let timeout = Duration::from_secs(http.request_timeout_secs.max(1));
    let limits = BodyLimits {
        any: http.max_body_mib.saturating_mul(1024 * 1024),
        anonymous: http.max_anonymous_body_kib.saturating_mul(1024),
        large: http.large_body_mib.saturating_mul(1024 * 1024),
        large_slots: std::sync::Arc::new(tokio::sync::Semaphore::new(
            http.max_concurrent_large_bodies.max(1),
        )),
    };
    let root = Router::new()
        .nest(API_PREFIX, api)
        .route("/metrics", axum::routing::get(health::metrics));
    let root = match spa::service(&state.config.web.dist_dir) {
        Some(spa) => root.fallback_service(spa),
        None => root.fallback(not_found),
    };
    root.layer(axum::extract::DefaultBodyLimit::max(limits.any))
        .layer(axum::middleware::from_fn(move |req, next| {
            limit_body(limits.clone(), req, next)
        }))
        .layer(axum::middleware::from_fn(move |req, next| {
            time_limit(timeout, req, next)
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let route = req
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or("<unmatched>", MatchedPath::as_str);
                    tracing::info_span!(
                        "request",
                        http.method = %req.method(),
                        http.route = route,
                        user.id = tracing::field::Empty,
                    )
                })
                .on_response(
                    |res: &axum::response::Response, latency: Duration, _span: &tracing::Span| {
                        tracing::info!(
                            http.status = res.status().as_u16(),
                            duration_ms = latency.as_secs_f64() * 1000.0,
                            "response"
                        );
                    },
                ),
        )
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .with_state(state)
}

/// Body size limits, in bytes, and the slots of large bodies.
#[derive(Clone)]
struct BodyLimits {
    any: usize,
    anonymous: usize,
    /// Bodies above this (or of unknown size) take one of `large_slots` while handled.
    large: usize,
    large_slots: std::sync::Arc<tokio::sync::Semaphore>,
}

/// Routes that take a body without a token.
const ANONYMOUS_BODY_ROUTES: &[&str] = &["/auth/password/login", "/auth/password/register"];

/// Refuses a body over the route's limit from its `Content-Length`, before reading any of
/// it, and caps bodies sent without one (chunked) as they are read. Large bodies are
/// handled a few at a time (`http.max_concurrent_large_bodies`): that, not the size limit,
/// bounds the memory that parsing them takes. Waiting for a slot counts against the
/// request timeout.
async fn limit_body(
    limits: BodyLimits,
    req: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let anonymous = req
        .uri()
        .path()
        .strip_prefix(API_PREFIX)
        .is_some_and(|p| ANONYMOUS_BODY_ROUTES.contains(&p.trim_end_matches('/')));
    let limit = if anonymous {
        limits.anonymous
    } else {
        limits.any
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return error::ApiError::Detail(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Request body larger than {limit} bytes"),
        )
        .into_response();
    }
    let has_body =
        declared.is_some_and(|n| n > 0) || req.headers().contains_key(header::TRANSFER_ENCODING);
    let large = has_body && declared.is_none_or(|n| n > limits.large as u64);
    // The semaphore is never closed, so acquiring only ever waits.
    let _slot = if large {
        limits.large_slots.acquire_owned().await.ok()
    } else {
        None
    };
    let req = req.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit)));
    next.run(req).await
}

/// Answers 503 when a request takes longer than `http.request_timeout_secs` to produce its
/// response (the handler is dropped, its transaction rolled back).
async fn time_limit(
    timeout: Duration,
    req: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!("request timed out");
            error::ApiError::Unavailable(1, "The request took too long".into()).into_response()
        }
    }
}

/// Serves `/sites` as `/sites/` and `/sites/1/` as `/sites/1` directly (upstream answers
/// both with a 307 to the canonical form; the official client never sends them).
pub fn canonical_slashes(mut req: Request) -> Request {
    let path = req.uri().path();
    let Some(rest) = path
        .strip_prefix(API_PREFIX)
        .and_then(|r| r.strip_prefix('/'))
    else {
        return req;
    };
    let canonical = if COLLECTIONS.contains(&rest) {
        Some(format!("{path}/"))
    } else {
        rest.strip_suffix('/')
            .and_then(|r| r.split_once('/'))
            .filter(|(collection, id)| COLLECTIONS.contains(collection) && !id.contains('/'))
            .map(|_| path.trim_end_matches('/').to_owned())
    };
    if let Some(canonical) = canonical {
        let new = match req.uri().query() {
            Some(q) => format!("{canonical}?{q}"),
            None => canonical,
        };
        if let Ok(uri) = new.parse::<Uri>() {
            *req.uri_mut() = uri;
        }
    }
    req
}

async fn not_found(body: axum::body::Body) -> axum::response::Response {
    unmatched(body, StatusCode::NOT_FOUND, "Not Found").await
}

async fn method_not_allowed(body: axum::body::Body) -> axum::response::Response {
    unmatched(body, StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed").await
}

/// Largest request body an unmatched route reads and drops to keep its connection.
const DRAIN_LIMIT: usize = 64 * 1024;

/// Upstream's `{"detail": …}` for a request no route takes. The body is read (up to
/// [`DRAIN_LIMIT`]) and dropped first: answering with it unread makes hyper close the
/// connection after the response, and a client that already reuses that keep-alive
/// connection for its next request sees it reset (the SDK's `RemoteDisconnected`). A
/// larger body is not read; the answer then says `Connection: close`.
async fn unmatched(
    body: axum::body::Body,
    status: StatusCode,
    detail: &'static str,
) -> axum::response::Response {
    let drained = axum::body::to_bytes(body, DRAIN_LIMIT).await.is_ok();
    let mut response = (status, Json(serde_json::json!({ "detail": detail }))).into_response();
    if !drained {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}
