//! Choosing the layer from configuration.

use balsam_channels::{from_config, ChannelError};

#[tokio::test]
async fn from_config_without_redis_is_in_process() {
    let layer = from_config(None).await.unwrap();
    assert_eq!(layer.name(), "in-process");
    layer.ready().await.unwrap();
}

#[tokio::test]
async fn a_bad_redis_url_is_a_config_error_that_hides_the_password() {
    for url in [
        "not a url",
        "http://:hunter2@example.invalid/",
        "redis://:hunter2@[::1/",
    ] {
        let err = from_config(Some(url))
            .await
            .err()
            .expect("bad URL rejected");
        assert!(matches!(err, ChannelError::Config(_)), "{url}: {err:?}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
