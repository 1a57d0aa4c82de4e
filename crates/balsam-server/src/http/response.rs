//! Response shapes shared by the handlers: the list response with its sequence header and
//! FastAPI's 422 body (as an OpenAPI schema).

use axum::http::HeaderValue;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// FastAPI's 422 body: `{"detail": [{"loc", "msg", "type", "ctx"?}]}`.
#[derive(Serialize, ToSchema)]
pub struct ValidationErrorBody {
    detail: Vec<ValidationErrorItem>,
}

/// One validation error.
#[derive(Serialize, ToSchema)]
struct ValidationErrorItem {
    /// Where: `"body"`, `"query"` or `"path"`, then keys and list indexes.
    #[schema(value_type = Vec<serde_json::Value>)]
    loc: Vec<serde_json::Value>,
    msg: String,
    #[serde(rename = "type")]
    kind: String,
    #[schema(value_type = Option<Object>)]
    ctx: Option<serde_json::Value>,
}

/// Header on list responses: the caller's event-log sequence number the page reflects
/// (read in the same database snapshot), so a client can drop rows older than what its
/// event stream already applied.
pub const SEQ_HEADER: &str = "x-balsam-seq";

/// A list response: `{count, results}` plus the [`SEQ_HEADER`].
pub struct Listed<T>(pub balsam_types::Paginated<T>);

impl<T: Serialize> IntoResponse for Listed<T> {
    fn into_response(self) -> axum::response::Response {
        let seq = self.0.seq.to_string();
        let mut res = Json(self.0).into_response();
        if let Ok(value) = HeaderValue::from_str(&seq) {
            res.headers_mut().insert(SEQ_HEADER, value);
        }
        res
    }
}
