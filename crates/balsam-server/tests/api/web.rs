//! The web client is served at `/` with an SPA fallback and correct caching.

use crate::support::TestApp;
use reqwest::StatusCode;

#[tokio::test]
async fn the_spa_is_served_with_fallback_and_cache_headers() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>balsam</title>",
    )
    .unwrap();
    std::fs::create_dir(dist.path().join("assets")).unwrap();
    std::fs::write(dist.path().join("assets/app-1a2b3c.js"), "console.log(1)").unwrap();
    let dir = dist.path().to_path_buf();
    let app = TestApp::spawn_with(move |c| c.web.dist_dir = dir).await;
    let root = app.base.trim_end_matches("/api/v1").to_owned();

    let index = app.client.get(format!("{root}/")).send().await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    assert_eq!(index.headers()["cache-control"], "no-cache");
    assert!(index.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'self'"));

    // A client-side route falls back to index.html.
    let deep = app
        .client
        .get(format!("{root}/jobs?state=RUNNING"))
        .send()
        .await
        .unwrap();
    assert_eq!(deep.status(), StatusCode::OK);
    assert!(deep.text().await.unwrap().contains("<title>balsam</title>"));

    let asset = app
        .client
        .get(format!("{root}/assets/app-1a2b3c.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status(), StatusCode::OK);
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );

    // A missing hashed asset must not be cached forever as index.html.
    let missing = app
        .client
        .get(format!("{root}/assets/gone.js"))
        .send()
        .await
        .unwrap();
    assert_ne!(
        missing.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );

    // The API keeps its own 404s.
    let api = app
        .client
        .get(format!("{}/nope", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn without_a_web_client_unknown_paths_are_json_404s() {
    let app = TestApp::spawn().await;
    let root = app.base.trim_end_matches("/api/v1").to_owned();
    let r = app.client.get(format!("{root}/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    app.stop().await;
}
