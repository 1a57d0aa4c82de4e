//! The channel layer: live, per-user fan-out of committed event-log entries to every
//! replica's websocket sessions. It may lose messages but never silently: a subscriber
//! that may have missed something receives [`Delivery::Gap`]. It knows nothing of HTTP or SQL.
//!
//! Two implementations behind one trait, chosen once from config ([`from_config`]):
//! [`InProcessLayer`] (one process, tokio broadcast) and [`RedisLayer`] (Redis pub/sub,
//! many replicas).
//!
//! Contract for consumers (the websocket session):
//! * Subscribe first, then read the event log from the resume point: everything published
//!   after [`ChannelLayer::subscribe`] returns is delivered or covered by a `Gap`.
//! * Messages of one `publish` call arrive in order and contiguously. Concurrent `publish`
//!   calls for one user may arrive in either order, and a message may be delivered again
//!   after a `Gap` or overlap what was read from the log, so skip `seq <= last applied` and
//!   treat `seq > last applied + 1` like a `Gap`.
//! * On `Gap`, catch up from the event log. Gaps are never merged: each one reports a
//!   possible loss after the previous one.
//! * Known limit: if a replica dies between a failed publish and its gap notice, other
//!   replicas' subscribers learn of the loss only from the next message's sequence jump.

use std::sync::Arc;

mod error;
mod hub;
mod in_process;
mod redis;

pub use self::redis::{RedisLayer, RedisOptions};
pub use error::ChannelError;
pub use hub::Subscription;
pub use in_process::InProcessLayer;

/// A Balsam user's id; one channel group per user.
pub type UserId = i64;

/// Default number of deliveries a local subscriber may fall behind before it gets a `Gap`.
pub const DEFAULT_CAPACITY: usize = 4096;

/// One committed event-log entry, encoded once by the publisher.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// The entry's per-user sequence number (gap-free in the event log).
    pub seq: i64,
    /// The envelope as JSON text; opaque to this crate and never re-encoded.
    pub payload: Arc<str>,
}

impl Message {
    /// A message from a sequence number and a JSON text.
    pub fn new(seq: i64, payload: impl Into<Arc<str>>) -> Self {
        Self {
            seq,
            payload: payload.into(),
        }
    }
}

/// What a subscriber receives.
#[derive(Clone, Debug, PartialEq)]
pub enum Delivery {
    /// A published event-log entry.
    Message(Message),
    /// Messages may have been lost (local lag, Redis reconnect, an undecodable frame):
    /// catch up from the event log.
    Gap,
}

/// A per-user publish/subscribe layer shared by every request handler of a process.
#[async_trait::async_trait]
pub trait ChannelLayer: Send + Sync + 'static {
    /// Publishes a batch of one user's messages (in seq order) to every subscriber of that
    /// user, on every replica. Never blocks for long: on a backend outage it fails within the
    /// layer's time budget. On `Err` the subscribers of that user get a `Gap` (this replica's
    /// at once, other replicas' once Redis accepts the notice), and the messages may still
    /// arrive late (a timed-out PUBLISH can reach Redis). Log and count the error; do not
    /// fail the request: the event log holds the messages.
    async fn publish(&self, user: UserId, messages: &[Message]) -> Result<(), ChannelError>;

    /// Subscribes to one user's group; yields what is published after this returns.
    async fn subscribe(&self, user: UserId) -> Result<Subscription, ChannelError>;

    /// Readiness: `Ok` when the layer can deliver (Redis reachable), for `/health`.
    async fn ready(&self) -> Result<(), ChannelError>;

    /// `"in-process"` or `"redis"`, for logs and `/health`.
    fn name(&self) -> &'static str;
}

/// Builds the layer named by config: `None` → in-process, `Some(url)` → Redis with
/// [`RedisOptions::default`]. An invalid URL is an error; an unreachable Redis is not (the
/// layer reconnects in the background and [`ChannelLayer::ready`] reports it).
pub async fn from_config(redis_url: Option<&str>) -> Result<Arc<dyn ChannelLayer>, ChannelError> {
    match redis_url {
        None => Ok(Arc::new(InProcessLayer::new())),
        Some(url) => Ok(Arc::new(
            RedisLayer::connect(url, RedisOptions::default()).await?,
        )),
    }
}
