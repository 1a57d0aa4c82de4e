//! The committed OpenAPI document must match what the handlers generate.
//! `UPDATE_OPENAPI=1 cargo test -p balsam-server --test api openapi` rewrites it.
//!
//! Repetition note: each test spells out its requests and assertions step by step, so
//! tests here and in the other API test files look alike on purpose.

use crate::support::TestApp;
use reqwest::StatusCode;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

#[test]
fn committed_openapi_document_is_current() {
    let generated = balsam_server::http::openapi().to_pretty_json().unwrap() + "\n";
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(COMMITTED, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p balsam-server --test api openapi` and commit it"
    );
}

#[tokio::test]
async fn the_document_and_the_docs_page_are_served() {
    let app = TestApp::spawn().await;
    let doc = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(doc.status(), StatusCode::OK);
    let doc: serde_json::Value = doc.json().await.unwrap();
    assert_eq!(doc["info"]["title"], "Balsam API");
    for path in [
        "/sites/",
        "/sites/{site_id}",
        "/apps/",
        "/auth/password/login",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
    let page = app
        .client
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    // Every asset the page loads is served by us: no CDN.
    for asset in [
        "docs/swagger-ui.css",
        "docs/swagger-ui-bundle.js",
        "docs/init.js",
    ] {
        assert!(html.contains(asset), "{asset}");
        let r = app
            .client
            .get(format!("{}/{asset}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{asset}");
    }
    assert!(!html.contains("http://") && !html.contains("https://"));
    app.stop().await;
}
