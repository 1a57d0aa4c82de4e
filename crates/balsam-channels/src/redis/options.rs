//! `RedisOptions`: the Redis layer's time budgets, sizes and channel names.

use std::time::Duration;

use crate::DEFAULT_CAPACITY;

/// Tuning of [`RedisLayer`]; the defaults suit a Redis on the same network.
#[derive(Clone, Debug)]
pub struct RedisOptions {
    /// Channel name prefix; a user's channel is `{prefix}{user_id}`.
    pub channel_prefix: String,
    /// How many deliveries a local subscriber may fall behind before it gets a `Gap`.
    pub capacity: usize,
    /// Budget for opening a connection.
    pub connect_timeout: Duration,
    /// Budget for one command (SUBSCRIBE, UNSUBSCRIBE, PING).
    pub command_timeout: Duration,
    /// Hard budget for a whole `publish` call, connecting included.
    pub publish_timeout: Duration,
    /// Budget for a whole `subscribe` call, waiting for Redis to confirm included.
    pub subscribe_timeout: Duration,
    /// How often the subscriber connection is PINGed to detect a silent Redis.
    pub ping_interval: Duration,
    /// First reconnect delay; doubled after each failure up to `reconnect_max`.
    pub reconnect_min: Duration,
    /// Longest reconnect delay.
    pub reconnect_max: Duration,
    /// Largest PUBLISH payload a batch is split into (a single bigger message goes alone).
    pub max_frame_bytes: usize,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            channel_prefix: "balsam:user:".into(),
            capacity: DEFAULT_CAPACITY,
            connect_timeout: Duration::from_secs(1),
            command_timeout: Duration::from_secs(1),
            publish_timeout: Duration::from_secs(2),
            subscribe_timeout: Duration::from_secs(3),
            ping_interval: Duration::from_secs(5),
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(5),
            max_frame_bytes: 1 << 20,
        }
    }
}
