//! Serving the built web client at `/` with an SPA fallback: hashed assets under `assets/`
//! are immutable, everything else (above all `index.html`) is revalidated on every use.
//!
//! The files come from a [`WebSource`]: a folder (`web.dist_dir`, `--web-dir`) or, in a
//! binary built with the `embed-web` feature, the `web/dist` build compiled into it. Both
//! go through the one handler below, so Content-Type, Cache-Control, Last-Modified and the
//! CSP, the fallback to `index.html`, HEAD, conditional and range requests and
//! precompressed `.br`/`.gz` siblings behave the same whichever source answers.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::Router;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The web client's Content-Security-Policy: everything from this origin, websockets to it.
const CSP: &str = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; \
    style-src 'self' 'unsafe-inline'; font-src 'self' data:; script-src 'self'; \
    object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

/// For Vite's content-hashed files under `assets/`: a new build has new names.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For everything else, above all `index.html`, which names the current assets.
const REVALIDATE: &str = "no-cache";

/// The page every client-side route falls back to.
const INDEX: &str = "index.html";

/// Precompressed siblings served when the client accepts them: (coding, file suffix),
/// preferred first when the client's q-values tie.
const PRECOMPRESSED: [(&str, &str); 2] = [("br", ".br"), ("gzip", ".gz")];

/// `web/dist` as it was when the binary was built (see `build.rs`).
#[cfg(feature = "embed-web")]
#[derive(rust_embed::Embed)]
#[folder = "../../web/dist/"]
struct EmbeddedDist;

/// Where the web client's files come from.
#[derive(Debug, Clone)]
pub enum WebSource {
    /// A folder on disk, read on every request (a new build is served without a restart).
    Dir(PathBuf),
    /// The `web/dist` build compiled into this binary (`embed-web` feature).
    #[cfg(feature = "embed-web")]
    Embedded,
}

/// One file of the web client.
struct WebFile {
    data: Bytes,
    /// Whole seconds since the epoch: HTTP dates have no finer resolution.
    modified: Option<u64>,
}

impl WebSource {
    /// The source for `web.dist_dir`: that folder when it is set (an explicit folder wins),
    /// else the embedded build when this binary has one, else none (API only). A folder
    /// without an `index.html` gives none.
    pub fn from_config(dist: &Path) -> Option<WebSource> {
        if !dist.as_os_str().is_empty() {
            return dist
                .join(INDEX)
                .is_file()
                .then(|| WebSource::Dir(dist.to_path_buf()));
        }
        Self::embedded()
    }

    #[cfg(feature = "embed-web")]
    fn embedded() -> Option<WebSource> {
        <EmbeddedDist as rust_embed::RustEmbed>::get(INDEX).map(|_| WebSource::Embedded)
    }

    #[cfg(not(feature = "embed-web"))]
    fn embedded() -> Option<WebSource> {
        None
    }

    /// The file at `path` (relative, `/`-separated, checked by [`file_path`]), or `None`.
    async fn read(&self, path: &str) -> io::Result<Option<WebFile>> {
        match self {
            WebSource::Dir(dir) => read_file(&dir.join(path)).await,
            #[cfg(feature = "embed-web")]
            WebSource::Embedded => Ok(<EmbeddedDist as rust_embed::RustEmbed>::get(path).map(
                |file| WebFile {
                    modified: file.metadata.last_modified(),
                    data: match file.data {
                        std::borrow::Cow::Borrowed(data) => Bytes::from_static(data),
                        std::borrow::Cow::Owned(data) => Bytes::from(data),
                    },
                },
            )),
        }
    }
}

impl fmt::Display for WebSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebSource::Dir(dir) => write!(f, "from {}", dir.display()),
            #[cfg(feature = "embed-web")]
            WebSource::Embedded => f.write_str("embedded in the binary"),
        }
    }
}

async fn read_file(path: &Path) -> io::Result<Option<WebFile>> {
    let absent = |err: &io::Error| {
        matches!(
            err.kind(),
            io::ErrorKind::NotFound
                | io::ErrorKind::PermissionDenied
                | io::ErrorKind::NotADirectory
                | io::ErrorKind::IsADirectory
                | io::ErrorKind::InvalidInput
        )
    };
    let meta = match tokio::fs::metadata(path).await {
        Ok(meta) if meta.is_file() => meta,
        Ok(_) => return Ok(None),
        Err(err) if absent(&err) => return Ok(None),
        Err(err) => return Err(err),
    };
    let data = match tokio::fs::read(path).await {
        Ok(data) => data,
        Err(err) if absent(&err) => return Ok(None),
        Err(err) => return Err(err),
    };
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    Ok(Some(WebFile {
        data: data.into(),
        modified,
    }))
}

/// A router serving the web client configured by `dist` (see [`WebSource::from_config`]),
/// or `None` when there is none.
pub fn service(dist: &Path) -> Option<Router> {
    let source = WebSource::from_config(dist);
    if source.is_none() && !dist.as_os_str().is_empty() {
        tracing::warn!(path = %dist.display(), "web.dist_dir has no index.html; not serving the web client");
    }
    Some(Router::new().fallback(serve).with_state(Arc::new(source?)))
}

async fn serve(
    State(source): State<Arc<WebSource>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let mut res = match respond(&source, &method, uri.path(), &headers).await {
        Ok(res) => res,
        Err(err) => {
            tracing::error!(error = %err, path = uri.path(), "reading the web client failed");
            status_only(StatusCode::INTERNAL_SERVER_ERROR)
        }
    };
    let headers = res.headers_mut();
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static(REVALIDATE));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    res
}

async fn respond(
    source: &WebSource,
    method: &Method,
    uri_path: &str,
    req: &HeaderMap,
) -> io::Result<Response> {
    if method != Method::GET && method != Method::HEAD {
        let mut res = status_only(StatusCode::METHOD_NOT_ALLOWED);
        res.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET,HEAD"));
        return Ok(res);
    }
    let accepted = accepted_encodings(req);
    let found = match file_path(uri_path) {
        Some(path) => find(source, &path, &accepted)
            .await?
            .map(|found| (path, found, false)),
        None => None,
    };
    // Anything that is not a file is a client-side route: the SPA's index.html.
    let found = match found {
        Some(found) => Some(found),
        None => find(source, INDEX, &accepted)
            .await?
            .map(|found| (INDEX.to_owned(), found, true)),
    };
    let Some((path, (file, encoding), fallback)) = found else {
        return Ok(status_only(StatusCode::NOT_FOUND));
    };
    let mime = mime_guess::from_path(&path)
        .first_raw()
        .unwrap_or("application/octet-stream");
    // A missing asset falls back to index.html, which must never be cached as immutable.
    let immutable = !fallback && path.starts_with("assets/") && !mime.starts_with("text/html");
    let cache = if immutable { IMMUTABLE } else { REVALIDATE };

    let mut res = status_only(StatusCode::OK);
    let headers = res.headers_mut();
    if let Some(date) = file.modified.and_then(http_date) {
        headers.insert(header::LAST_MODIFIED, date);
    }
    if encoding.is_some() {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if let Some(status) = precondition(req, file.modified) {
        *res.status_mut() = status;
        return Ok(with_cache(res, cache));
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    let len = file.data.len();
    let body = match req.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => file.data,
        Some(range) => match byte_range(range, len) {
            Some((start, end)) => {
                insert_string(
                    headers,
                    header::CONTENT_RANGE,
                    format!("bytes {start}-{end}/{len}"),
                );
                *res.status_mut() = StatusCode::PARTIAL_CONTENT;
                file.data.slice(start..=end)
            }
            None => {
                insert_string(headers, header::CONTENT_RANGE, format!("bytes */{len}"));
                *res.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
                Bytes::new()
            }
        },
    };
    res.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    if method != Method::HEAD {
        *res.body_mut() = Body::from(body);
    }
    Ok(with_cache(res, cache))
}

/// The file's caching for the file itself (200, 206) and for a 304 (which updates a
/// cached copy's headers); errors keep the default, `no-cache`.
fn with_cache(mut res: Response, cache: &'static str) -> Response {
    let status = res.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    res
}

/// The file a request path names, relative to the web root: percent-decoded, `.` and
/// empty segments dropped, a directory meaning its `index.html`. `None` for paths that
/// could leave the root (`..`) or are not valid names.
fn file_path(uri_path: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(uri_path)
        .decode_utf8()
        .ok()?;
    let mut segments = Vec::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return None,
            s if s.contains(['\\', '\0']) => return None,
            s => segments.push(s),
        }
    }
    if segments.is_empty() || decoded.ends_with('/') {
        segments.push(INDEX);
    }
    Some(segments.join("/"))
}

/// `path` or, preferred, a precompressed sibling the client accepts, with its coding.
async fn find(
    source: &WebSource,
    path: &str,
    accepted: &[(&'static str, &'static str)],
) -> io::Result<Option<(WebFile, Option<&'static str>)>> {
    for (coding, suffix) in accepted {
        if let Some(file) = source.read(&format!("{path}{suffix}")).await? {
            return Ok(Some((file, Some(coding))));
        }
    }
    Ok(source.read(path).await?.map(|file| (file, None)))
}

/// The precompressed codings the request accepts (q > 0), most preferred first.
fn accepted_encodings(req: &HeaderMap) -> Vec<(&'static str, &'static str)> {
    let mut accepted: Vec<(u16, usize)> = Vec::new();
    let items = req
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','));
    for item in items {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let Some(rank) = PRECOMPRESSED
            .iter()
            .position(|(coding, _)| coding.eq_ignore_ascii_case(name))
        else {
            continue;
        };
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .next_back()
            .map_or(Some(1000), |q| {
                q.trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))
                    .map(|q| (q * 1000.0).round() as u16)
            });
        if let Some(q) = q.filter(|&q| q > 0) {
            accepted.push((q, rank));
        }
    }
    accepted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    accepted.dedup_by_key(|(_, rank)| *rank);
    accepted
        .into_iter()
        .map(|(_, rank)| PRECOMPRESSED[rank])
        .collect()
}

/// 412 or 304 from `If-Unmodified-Since` / `If-Modified-Since`, compared in whole seconds.
fn precondition(req: &HeaderMap, modified: Option<u64>) -> Option<StatusCode> {
    let date = |name| {
        req.get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
    };
    if let Some(since) = date(header::IF_UNMODIFIED_SINCE) {
        if modified.is_none_or(|m| m > since) {
            return Some(StatusCode::PRECONDITION_FAILED);
        }
    }
    if let Some(since) = date(header::IF_MODIFIED_SINCE) {
        if modified.is_some_and(|m| m <= since) {
            return Some(StatusCode::NOT_MODIFIED);
        }
    }
    None
}

/// The one range of a `Range: bytes=…` header within `len` bytes, inclusive; `None` when
/// it cannot be satisfied (several ranges are not supported either).
fn byte_range(header: &str, len: usize) -> Option<(usize, usize)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || len == 0 {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        let suffix: usize = last.parse().ok().filter(|&n| n > 0)?;
        return Some((len.saturating_sub(suffix), len - 1));
    }
    let first: usize = first.parse().ok().filter(|&f| f < len)?;
    let last = if last.is_empty() {
        len - 1
    } else {
        last.parse::<usize>()
            .ok()
            .filter(|&l| l >= first)?
            .min(len - 1)
    };
    Some((first, last))
}

fn http_date(secs: u64) -> Option<HeaderValue> {
    let time: SystemTime = UNIX_EPOCH.checked_add(Duration::from_secs(secs))?;
    HeaderValue::try_from(httpdate::fmt_http_date(time)).ok()
}

fn insert_string(headers: &mut HeaderMap, name: header::HeaderName, value: String) {
    if let Ok(value) = HeaderValue::try_from(value) {
        headers.insert(name, value);
    }
}

fn status_only(status: StatusCode) -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = status;
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_paths_map_to_files_inside_the_root() {
        assert_eq!(file_path("/").as_deref(), Some("index.html"));
        assert_eq!(file_path("").as_deref(), Some("index.html"));
        assert_eq!(
            file_path("/assets/app-1a2b.js").as_deref(),
            Some("assets/app-1a2b.js")
        );
        assert_eq!(
            file_path("//assets/./a%20b.js").as_deref(),
            Some("assets/a b.js")
        );
        assert_eq!(file_path("/jobs/").as_deref(), Some("jobs/index.html"));
        assert_eq!(file_path("/../etc/passwd"), None);
        assert_eq!(file_path("/assets/%2e%2e/%2e%2e/etc/passwd"), None);
        assert_eq!(file_path("/a%5c..%5cb"), None);
        assert_eq!(file_path("/a%00b"), None);
        assert_eq!(file_path("/%ff"), None);
    }

    #[test]
    fn ranges_are_clamped_or_refused() {
        assert_eq!(byte_range("bytes=0-4", 10), Some((0, 4)));
        assert_eq!(byte_range("bytes=5-", 10), Some((5, 9)));
        assert_eq!(byte_range("bytes=5-100", 10), Some((5, 9)));
        assert_eq!(byte_range("bytes=-3", 10), Some((7, 9)));
        assert_eq!(byte_range("bytes=-30", 10), Some((0, 9)));
        assert_eq!(byte_range("bytes=10-", 10), None);
        assert_eq!(byte_range("bytes=4-2", 10), None);
        assert_eq!(byte_range("bytes=-0", 10), None);
        assert_eq!(byte_range("bytes=0-1,3-4", 10), None);
        assert_eq!(byte_range("items=0-1", 10), None);
        assert_eq!(byte_range("bytes=0-", 0), None);
    }

    #[test]
    fn accepted_precompressed_codings_follow_q_values() {
        let accepted = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
            accepted_encodings(&headers)
                .into_iter()
                .map(|(coding, _)| coding)
                .collect::<Vec<_>>()
        };
        assert_eq!(accepted("gzip, deflate, br, zstd"), ["br", "gzip"]);
        assert_eq!(accepted("br;q=0.5, gzip"), ["gzip", "br"]);
        assert_eq!(accepted("gzip;q=0, br;q=0.1"), ["br"]);
        assert_eq!(accepted("identity"), Vec::<&str>::new());
        assert!(accepted_encodings(&HeaderMap::new()).is_empty());
    }

    #[test]
    fn conditional_requests_compare_whole_seconds() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_MODIFIED_SINCE,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        let at = 784_111_777;
        assert_eq!(
            precondition(&headers, Some(at)),
            Some(StatusCode::NOT_MODIFIED)
        );
        assert_eq!(precondition(&headers, Some(at + 1)), None);
        assert_eq!(precondition(&headers, None), None);
        headers.insert(
            header::IF_UNMODIFIED_SINCE,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(
            precondition(&headers, Some(at + 1)),
            Some(StatusCode::PRECONDITION_FAILED)
        );
    }
}
