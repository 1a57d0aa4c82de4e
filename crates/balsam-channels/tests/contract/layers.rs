//! The layers under test: in-process always, the shared Redis when configured.

use std::sync::Arc;
use std::time::Duration;

use balsam_channels::{ChannelLayer, InProcessLayer, RedisLayer, RedisOptions, UserId};

use crate::support::CAPACITY;

pub struct Layer {
    pub channels: Arc<dyn ChannelLayer>,
    pub kind: Kind,
}

pub enum Kind {
    InProcess(InProcessLayer),
    Redis { layer: RedisLayer, url: String },
}

pub fn test_options() -> RedisOptions {
    RedisOptions {
        capacity: CAPACITY,
        connect_timeout: Duration::from_millis(500),
        command_timeout: Duration::from_millis(500),
        publish_timeout: Duration::from_secs(1),
        subscribe_timeout: Duration::from_secs(2),
        ping_interval: Duration::from_millis(200),
        reconnect_min: Duration::from_millis(50),
        reconnect_max: Duration::from_millis(500),
        ..RedisOptions::default()
    }
}

pub fn redis_required() -> bool {
    std::env::var("BALSAM_TEST_REQUIRE_REDIS").is_ok_and(|v| v == "1")
}

impl Layer {
    pub fn in_process() -> Self {
        let layer = InProcessLayer::with_capacity(CAPACITY);
        Self {
            channels: Arc::new(layer.clone()),
            kind: Kind::InProcess(layer),
        }
    }

    /// The shared test Redis, or `None` (skip) when it is not configured.
    pub async fn redis() -> Option<Self> {
        let Some(url) = std::env::var("BALSAM_TEST_REDIS_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            assert!(
                !redis_required(),
                "BALSAM_TEST_REQUIRE_REDIS=1 but BALSAM_TEST_REDIS_URL is unset"
            );
            eprintln!("skipped: BALSAM_TEST_REDIS_URL is not set");
            return None;
        };
        let layer = Self::redis_at(&url).await;
        let connected = matches!(&layer.kind, Kind::Redis { layer, .. } if layer.is_connected());
        if !connected {
            assert!(
                !redis_required(),
                "BALSAM_TEST_REQUIRE_REDIS=1 but Redis is unreachable"
            );
            eprintln!("skipped: Redis at BALSAM_TEST_REDIS_URL is unreachable");
            return None;
        }
        Some(layer)
    }

    pub async fn redis_at(url: &str) -> Self {
        let layer = RedisLayer::connect(url, test_options())
            .await
            .expect("valid Redis URL");
        Self {
            channels: Arc::new(layer.clone()),
            kind: Kind::Redis {
                layer,
                url: url.into(),
            },
        }
    }

    pub fn local_subscribers(&self, user: UserId) -> usize {
        match &self.kind {
            Kind::InProcess(l) => l.local_subscribers(user),
            Kind::Redis { layer, .. } => layer.local_subscribers(user),
        }
    }

    pub fn local_groups(&self) -> usize {
        match &self.kind {
            Kind::InProcess(l) => l.local_groups(),
            Kind::Redis { layer, .. } => layer.local_groups(),
        }
    }

    /// Subscriber connections Redis counts on `user`'s channel (`None` in-process).
    pub async fn redis_subscribers(&self, user: UserId) -> Option<i64> {
        let Kind::Redis { layer, url } = &self.kind else {
            return None;
        };
        Some(numsub(url, &layer.channel_name(user)).await)
    }
}

pub async fn redis_conn(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

pub async fn numsub(url: &str, channel: &str) -> i64 {
    let (_, n): (String, i64) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(channel)
        .query_async(&mut redis_conn(url).await)
        .await
        .unwrap();
    n
}
