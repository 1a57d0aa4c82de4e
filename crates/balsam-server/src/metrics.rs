//! Prometheus metrics: names and the recorder. Recording is cheap and always on; the
//! `/metrics` endpoint that renders them is behind `metrics.enabled`.

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

pub const HTTP_REQUESTS: &str = "balsam_http_requests_total";
pub const HTTP_DURATION: &str = "balsam_http_request_duration_seconds";
pub const WS_SESSIONS: &str = "balsam_ws_sessions";
pub const EVENTS_PUBLISHED: &str = "balsam_events_published_total";
pub const PUBLISH_FAILURES: &str = "balsam_events_publish_failures_total";
pub const EVENTS_DELIVERED: &str = "balsam_events_delivered_total";
pub const EVENTS_REPLAYED: &str = "balsam_events_replayed_total";
pub const RESYNCS: &str = "balsam_ws_resyncs_total";
pub const DB_POOL_SIZE: &str = "balsam_db_pool_connections";
pub const DB_POOL_IDLE: &str = "balsam_db_pool_idle_connections";

/// The process-wide recorder (installed once; several apps in one test process share it).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let buckets = [
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        ];
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(HTTP_DURATION.into()),
                &buckets,
            )
            .unwrap_or_else(|_| PrometheusBuilder::new());
        match builder.install_recorder() {
            Ok(handle) => handle,
            // Another recorder is installed (a library's, in tests): render an empty one.
            Err(_) => PrometheusBuilder::new().build_recorder().handle(),
        }
    })
}

/// Makes sure the recorder exists before anything records.
pub fn init() {
    handle();
}
