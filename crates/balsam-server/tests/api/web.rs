//! The web client is served at `/` with an SPA fallback and correct caching, the same way
//! from a folder (`web.dist_dir`) and, in builds with the `embed-web` feature, from the
//! `web/dist` build embedded in the binary: `serves_the_spa` runs against both.
//!
//! Repetition note: each test spells out its requests and assertions step by step, so
//! tests here and in the other API test files look alike on purpose.

use crate::support::TestApp;
use reqwest::header::{HeaderMap, ACCEPT_ENCODING, IF_MODIFIED_SINCE, RANGE};
use reqwest::{Method, StatusCode};
use std::path::Path;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A minimal Vite-shaped build: an index.html loading one hashed script and stylesheet.
fn write_dist(dir: &Path, title: &str) {
    std::fs::write(
        dir.join("index.html"),
        format!(
            "<!doctype html><title>{title}</title>\
             <script type=\"module\" crossorigin src=\"/assets/app-1a2b3c.js\"></script>\
             <link rel=\"stylesheet\" crossorigin href=\"/assets/app-4d5e6f.css\">"
        ),
    )
    .unwrap();
    std::fs::create_dir(dir.join("assets")).unwrap();
    std::fs::write(
        dir.join("assets/app-1a2b3c.js"),
        "console.log('balsam web client')",
    )
    .unwrap();
    std::fs::write(dir.join("assets/app-4d5e6f.css"), "body { margin: 0 }").unwrap();
}

fn root(app: &TestApp) -> String {
    app.base.trim_end_matches("/api/v1").to_owned()
}

async fn request(app: &TestApp, method: Method, path: &str, headers: HeaderMap) -> Response {
    let res = app
        .client
        .request(method, format!("{}{path}", root(app)))
        .headers(headers)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.bytes().await.unwrap().to_vec();
    Response {
        status,
        headers,
        body,
    }
}

async fn get(app: &TestApp, path: &str) -> Response {
    request(app, Method::GET, path, HeaderMap::new()).await
}

struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
            .to_str()
            .unwrap()
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

fn one(headers: &[(reqwest::header::HeaderName, &str)]) -> HeaderMap {
    headers
        .iter()
        .map(|(name, value)| (name.clone(), value.parse().unwrap()))
        .collect()
}

/// The path of the first `/assets/…` file the page references after `attr="`.
fn referenced_asset(index: &str, attr: &str, ext: &str) -> String {
    index
        .split(&format!("{attr}=\"/assets/"))
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|name| name.ends_with(ext))
        .map(|name| format!("/assets/{name}"))
        .unwrap_or_else(|| panic!("index.html references no {ext} asset: {index}"))
}

/// Everything the web client's responses must satisfy, whichever source serves them.
async fn serves_the_spa(app: &TestApp) {
    // index.html: always revalidated, with the CSP and the security headers.
    let index = get(app, "/").await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(index.header("content-type").starts_with("text/html"));
    assert_eq!(index.header("cache-control"), "no-cache");
    assert!(index
        .header("content-security-policy")
        .contains("default-src 'self'"));
    assert_eq!(index.header("x-content-type-options"), "nosniff");
    assert_eq!(index.header("x-frame-options"), "DENY");
    assert_eq!(index.header("referrer-policy"), "no-referrer");
    assert_eq!(index.header("content-length"), index.body.len().to_string());
    let index_modified = index.header("last-modified").to_owned();
    let page = index.text();
    assert!(page.contains("<title>"), "{page}");
    assert_eq!(get(app, "/index.html").await.body, index.body);

    // Hashed assets: immutable, with their own types.
    let script_path = referenced_asset(&page, "src", ".js");
    let script = get(app, &script_path).await;
    assert_eq!(script.status, StatusCode::OK, "{script_path}");
    assert_eq!(script.header("cache-control"), IMMUTABLE);
    assert_eq!(script.header("content-type"), "text/javascript");
    assert_eq!(
        script.header("content-length"),
        script.body.len().to_string()
    );
    assert!(!script.body.is_empty());
    assert!(script
        .header("content-security-policy")
        .contains("default-src 'self'"));
    let style = get(app, &referenced_asset(&page, "href", ".css")).await;
    assert_eq!(style.status, StatusCode::OK);
    assert_eq!(style.header("cache-control"), IMMUTABLE);
    assert_eq!(style.header("content-type"), "text/css");

    // HEAD: the same headers, no body.
    for (path, full) in [("/", &index), (script_path.as_str(), &script)] {
        let head = request(app, Method::HEAD, path, HeaderMap::new()).await;
        assert_eq!(head.status, StatusCode::OK, "HEAD {path}");
        assert!(head.body.is_empty(), "HEAD {path}");
        for name in [
            "content-type",
            "content-length",
            "cache-control",
            "last-modified",
        ] {
            assert_eq!(head.header(name), full.header(name), "HEAD {path}: {name}");
        }
    }

    // Revalidation by date answers 304 and keeps each file's caching.
    let since = one(&[(IF_MODIFIED_SINCE, &index_modified)]);
    let unchanged = request(app, Method::GET, "/", since).await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    assert!(unchanged.body.is_empty());
    assert_eq!(unchanged.header("cache-control"), "no-cache");
    let since = one(&[(IF_MODIFIED_SINCE, script.header("last-modified"))]);
    let unchanged = request(app, Method::GET, &script_path, since).await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    assert_eq!(unchanged.header("cache-control"), IMMUTABLE);
    let old = one(&[(IF_MODIFIED_SINCE, "Thu, 01 Jan 1970 00:00:01 GMT")]);
    let changed = request(app, Method::GET, &script_path, old).await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.body, script.body);

    // Ranges of a file.
    let range = one(&[(RANGE, "bytes=0-9")]);
    let part = request(app, Method::GET, &script_path, range).await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body, script.body[..10]);
    assert_eq!(
        part.header("content-range"),
        format!("bytes 0-9/{}", script.body.len())
    );
    let range = one(&[(RANGE, &format!("bytes={}-", script.body.len()))]);
    let past_the_end = request(app, Method::GET, &script_path, range).await;
    assert_eq!(past_the_end.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_ne!(past_the_end.header("cache-control"), IMMUTABLE);

    // A client-side route falls back to index.html, revalidated.
    for route in ["/jobs?state=RUNNING", "/jobs/42", "/sites/", "/assets"] {
        let deep = get(app, route).await;
        assert_eq!(deep.status, StatusCode::OK, "{route}");
        assert!(deep.header("content-type").starts_with("text/html"));
        assert_eq!(deep.header("cache-control"), "no-cache", "{route}");
        assert_eq!(deep.body, index.body, "{route}");
    }

    // A missing hashed asset must not be cached forever as index.html.
    let missing = get(app, "/assets/gone-0a0b0c.js").await;
    assert_eq!(missing.status, StatusCode::OK);
    assert_eq!(missing.header("cache-control"), "no-cache");
    assert_eq!(missing.body, index.body);

    // Nothing outside the web root, however encoded.
    let escape = get(app, "/assets/..%2f..%2f..%2f..%2fetc%2fpasswd").await;
    assert_eq!(escape.body, index.body);

    // Only reads.
    let post = request(app, Method::POST, "/", HeaderMap::new()).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post.header("allow"), "GET,HEAD");

    // The API keeps its own JSON 404s.
    let api = get(app, "/api/v1/nope").await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert!(api.header("content-type").starts_with("application/json"));
    assert_eq!(api.text(), r#"{"detail":"Not Found"}"#);
    let api = request(app, Method::GET, "/api/v1/auth/how", HeaderMap::new()).await;
    assert_eq!(api.status, StatusCode::OK);
    assert!(api.header("content-type").starts_with("application/json"));
}

#[tokio::test]
async fn the_spa_is_served_from_a_folder_with_fallback_and_cache_headers() {
    let dist = tempfile::tempdir().unwrap();
    write_dist(dist.path(), "balsam");
    let dir = dist.path().to_path_buf();
    let app = TestApp::spawn_with(move |c| c.web.dist_dir = dir).await;
    serves_the_spa(&app).await;
    assert!(get(&app, "/")
        .await
        .text()
        .contains("<title>balsam</title>"));
    app.stop().await;
}

#[tokio::test]
async fn precompressed_siblings_are_served_to_clients_that_accept_them() {
    let dist = tempfile::tempdir().unwrap();
    write_dist(dist.path(), "balsam");
    // Not real gzip: the server only picks the file, the browser would decompress it.
    std::fs::write(dist.path().join("assets/app-1a2b3c.js.gz"), "gzipped").unwrap();
    let dir = dist.path().to_path_buf();
    let app = TestApp::spawn_with(move |c| c.web.dist_dir = dir).await;

    let gz = one(&[(ACCEPT_ENCODING, "gzip, deflate, br")]);
    let res = request(&app, Method::GET, "/assets/app-1a2b3c.js", gz).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body, b"gzipped");
    assert_eq!(res.header("content-encoding"), "gzip");
    assert_eq!(res.header("content-type"), "text/javascript");
    assert_eq!(res.header("vary"), "accept-encoding");
    assert_eq!(res.header("cache-control"), IMMUTABLE);

    let identity = one(&[(ACCEPT_ENCODING, "gzip;q=0")]);
    let res = request(&app, Method::GET, "/assets/app-1a2b3c.js", identity).await;
    assert_eq!(res.body, b"console.log('balsam web client')");
    assert!(res.headers.get("content-encoding").is_none());
    app.stop().await;
}

#[tokio::test]
async fn a_web_dir_without_index_html_serves_only_the_api() {
    let dist = tempfile::tempdir().unwrap();
    let dir = dist.path().to_path_buf();
    let app = TestApp::spawn_with(move |c| c.web.dist_dir = dir).await;
    let r = get(&app, "/").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.text(), r#"{"detail":"Not Found"}"#);
    app.stop().await;
}

#[cfg(not(feature = "embed-web"))]
#[tokio::test]
async fn without_a_web_client_unknown_paths_are_json_404s() {
    let app = TestApp::spawn().await;
    let r = get(&app, "/").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("x-content-type-options"), "nosniff");
    app.stop().await;
}

#[cfg(feature = "embed-web")]
#[tokio::test]
async fn the_embedded_web_client_is_served_the_same_way() {
    let app = TestApp::spawn().await;
    serves_the_spa(&app).await;
    // It is the real build: the Vue app's mount point and its icon.
    assert!(get(&app, "/").await.text().contains(r#"<div id="app">"#));
    let icon = get(&app, "/favicon.svg").await;
    assert_eq!(icon.status, StatusCode::OK);
    assert_eq!(icon.header("content-type"), "image/svg+xml");
    assert_eq!(icon.header("cache-control"), "no-cache");
    app.stop().await;
}

#[cfg(feature = "embed-web")]
#[tokio::test]
async fn an_explicit_web_dir_wins_over_the_embedded_client() {
    let dist = tempfile::tempdir().unwrap();
    write_dist(dist.path(), "from the folder");
    let dir = dist.path().to_path_buf();
    let app = TestApp::spawn_with(move |c| c.web.dist_dir = dir).await;
    assert!(get(&app, "/jobs")
        .await
        .text()
        .contains("<title>from the folder</title>"));
    let script = get(&app, "/assets/app-1a2b3c.js").await;
    assert_eq!(script.body, b"console.log('balsam web client')");
    app.stop().await;
}
