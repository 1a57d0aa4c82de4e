//! `/api/v1/docs`: Swagger UI on our OpenAPI document, with its assets compiled in so it
//! works without internet access.

use crate::state::ServerState;
use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::Router;

const INDEX: &str = include_str!("../../assets/swagger-ui/index.html");
const INIT_JS: &str = include_str!("../../assets/swagger-ui/init.js");
const BUNDLE_JS: &str = include_str!("../../assets/swagger-ui/swagger-ui-bundle.js");
const CSS: &str = include_str!("../../assets/swagger-ui/swagger-ui.css");

pub fn routes() -> Router<ServerState> {
    Router::new()
        .route(
            "/docs",
            get(|| async { asset("text/html; charset=utf-8", INDEX, false) }),
        )
        .route("/docs/", get(|| async { Redirect::permanent("../docs") }))
        .route(
            "/docs/init.js",
            get(|| async { asset("text/javascript", INIT_JS, false) }),
        )
        .route(
            "/docs/swagger-ui-bundle.js",
            get(|| async { asset("text/javascript", BUNDLE_JS, true) }),
        )
        .route(
            "/docs/swagger-ui.css",
            get(|| async { asset("text/css", CSS, true) }),
        )
}

fn asset(content_type: &'static str, body: &'static str, cacheable: bool) -> impl IntoResponse {
    let cache = if cacheable {
        "public, max-age=86400"
    } else {
        "no-cache"
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                 script-src 'self'; frame-ancestors 'none'",
            ),
        ],
        body,
    )
}
