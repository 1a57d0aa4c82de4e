use crate::support::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn liveness_and_readiness() {
    let app = TestApp::spawn().await;
    let r = app.call(Method::GET, "/health", None, None).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::OK, json!({"status": "ok"}))
    );
    let r = app.call(Method::GET, "/ready", None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["database"]["status"], "ok");
    assert_eq!(r.body["channels"]["status"], "ok");
    app.stop().await;
}

#[tokio::test]
async fn metrics_are_off_by_default_and_behind_a_bearer_token_when_on() {
    let app = TestApp::spawn().await;
    let root = app.base.trim_end_matches("/api/v1").to_owned();
    let off = app
        .client
        .get(format!("{root}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), StatusCode::NOT_FOUND);
    app.stop().await;

    // Enabled without a token: still not served.
    let app = TestApp::spawn_with(|c| c.metrics.enabled = true).await;
    let root = app.base.trim_end_matches("/api/v1").to_owned();
    let untokened = app.client.get(format!("{root}/metrics")).send().await;
    assert_eq!(untokened.unwrap().status(), StatusCode::NOT_FOUND);
    app.stop().await;

    let app = TestApp::spawn_with(|c| {
        c.metrics.enabled = true;
        c.metrics.bearer_token = "scrape-token".to_owned().into();
    })
    .await;
    let root = app.base.trim_end_matches("/api/v1").to_owned();
    let user = app.new_user().await;
    app.get("/sites/", &user).await;
    app.get("/sites/", &user).await;
    for wrong in [None, Some("Bearer nope"), Some("Bearer scrape-tokeN")] {
        let mut req = app.client.get(format!("{root}/metrics"));
        if let Some(h) = wrong {
            req = req.header("authorization", h);
        }
        assert_eq!(req.send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    let text = app
        .client
        .get(format!("{root}/metrics"))
        .bearer_auth("scrape-token")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("balsam_http_requests_total") && l.contains("route=\"/api/v1/sites/\"")
        })
        .unwrap_or_else(|| panic!("no request counter for /sites/ in:\n{text}"));
    let count: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 2.0, "{line}");
    assert!(text.contains("balsam_http_request_duration_seconds_bucket"));
    assert!(text.contains("balsam_db_pool_connections"));
    app.stop().await;
}
