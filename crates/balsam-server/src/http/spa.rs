//! Serving the built web client (`web.dist_dir`) at `/` with an SPA fallback: hashed
//! assets are immutable, `index.html` is always revalidated.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::Router;
use std::path::Path;
use tower_http::services::{ServeDir, ServeFile};

/// The web client's Content-Security-Policy: everything from this origin, websockets to it.
const CSP: &str = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; \
    style-src 'self' 'unsafe-inline'; font-src 'self' data:; script-src 'self'; \
    object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

/// A router serving `dist`, or `None` when no web client is configured.
pub fn service(dist: &Path) -> Option<Router> {
    if dist.as_os_str().is_empty() {
        return None;
    }
    let index = dist.join("index.html");
    if !index.is_file() {
        tracing::warn!(path = %dist.display(), "web.dist_dir has no index.html; not serving the web client");
        return None;
    }
    let files = ServeDir::new(dist)
        .precompressed_gzip()
        .precompressed_br()
        .fallback(ServeFile::new(index));
    Some(
        Router::new()
            .fallback_service(files)
            .layer(middleware::from_fn(cache_headers)),
    )
}

async fn cache_headers(req: Request, next: Next) -> Response {
    let under_assets = req.uri().path().starts_with("/assets/");
    let mut res = next.run(req).await;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|c| c.as_bytes().starts_with(b"text/html"));
    // A missing asset falls back to index.html, which must never be cached as immutable.
    let immutable = under_assets && res.status().is_success() && !is_html;
    let headers = res.headers_mut();
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    res
}
