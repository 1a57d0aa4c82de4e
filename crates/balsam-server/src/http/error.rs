//! `ApiError`: the one place that knows upstream's error bodies and the only place that
//! logs server errors.
//!
//! | variant | status | body |
//! |---|---|---|
//! | `NotAuthenticated` | 401 | `{"detail":"Not authenticated"}` + `WWW-Authenticate: Bearer` |
//! | `InvalidToken` | 401 | `{"detail":"Could not validate credentials"}` + `WWW-Authenticate: Bearer` |
//! | `BadCredentials` | 401 | `{"detail":"Unauthorized"}` |
//! | `NotFound` | 404 | `{"error":"Not found"}` |
//! | `Detail` | 400/403/404/405 | `{"detail":"<message>"}` |
//! | `Validation` | 422 | `{"detail":[{"loc","msg","type"[,"ctx"]}]}` |
//! | `TooManyRequests` | 429 | `{"detail":"<message>"}` + `Retry-After` |
//! | `Unavailable` | 503 | `{"detail":"<message>"}` + `Retry-After` |
//! | `Internal` | 500 | `Internal Server Error` (text/plain) |

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use balsam_store::StoreError;
use balsam_types::{LocPart, ValidationErrors};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401: no `Authorization: Bearer` header.
    #[error("not authenticated")]
    NotAuthenticated,
    /// 401: the token is malformed, wrongly signed or expired.
    #[error("invalid token")]
    InvalidToken,
    /// 401: wrong username or password at login.
    #[error("bad credentials")]
    BadCredentials,
    /// 404: missing, or owned by someone else (indistinguishable by design).
    #[error("not found")]
    NotFound,
    /// A business-rule error with FastAPI's `{"detail": "..."}` body.
    #[error("{1}")]
    Detail(StatusCode, String),
    /// 422: request validation failed.
    #[error("validation failed")]
    Validation(#[from] ValidationErrors),
    /// 429: a rate limit; retry after that many seconds.
    #[error("{1}")]
    TooManyRequests(u64, String),
    /// 503: a bounded resource is busy; retry after that many seconds.
    #[error("{1}")]
    Unavailable(u64, String),
    /// 500: logged once here, never shown to the client.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// 400 with a detail message.
    pub fn bad_request(msg: impl Into<String>) -> Self {
        ApiError::Detail(StatusCode::BAD_REQUEST, msg.into())
    }

    /// 422 for a single bad value at `loc`.
    pub fn invalid(loc: Vec<LocPart>, msg: &str, kind: &str) -> Self {
        ApiError::Validation(ValidationErrors::single(loc, msg, kind))
    }
}

impl From<crate::auth::password::Busy> for ApiError {
    fn from(_: crate::auth::password::Busy) -> Self {
        ApiError::Unavailable(
            1,
            "The server is busy checking passwords; retry shortly".into(),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict { constraint } => {
                ApiError::bad_request(format!("Conflicts with an existing row ({constraint})"))
            }
            StoreError::Invalid(msg) => ApiError::bad_request(msg),
            StoreError::MissingReference(msg) => ApiError::Detail(StatusCode::NOT_FOUND, msg),
            other => ApiError::Internal(other.into()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let bearer = [(header::WWW_AUTHENTICATE, "Bearer")];
        match self {
            ApiError::NotAuthenticated => (
                StatusCode::UNAUTHORIZED,
                bearer,
                Json(json!({"detail": "Not authenticated"})),
            )
                .into_response(),
            ApiError::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                bearer,
                Json(json!({"detail": "Could not validate credentials"})),
            )
                .into_response(),
            ApiError::BadCredentials => (
                StatusCode::UNAUTHORIZED,
                Json(json!({"detail": "Unauthorized"})),
            )
                .into_response(),
            ApiError::NotFound => {
                (StatusCode::NOT_FOUND, Json(json!({"error": "Not found"}))).into_response()
            }
            ApiError::Detail(status, msg) => (status, Json(json!({"detail": msg}))).into_response(),
            ApiError::Validation(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({"detail": errors.0})),
            )
                .into_response(),
            ApiError::TooManyRequests(secs, msg) => (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, secs.max(1).to_string())],
                Json(json!({"detail": msg})),
            )
                .into_response(),
            ApiError::Unavailable(secs, msg) => (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, secs.max(1).to_string())],
                Json(json!({"detail": msg})),
            )
                .into_response(),
            ApiError::Internal(err) => {
                tracing::error!(error = ?err, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    "Internal Server Error",
                )
                    .into_response()
            }
        }
    }
}
