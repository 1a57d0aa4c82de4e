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
mod layer;
mod redis;

pub use self::redis::{RedisLayer, RedisOptions};
/// The entries this crate carries: the event log's, one type from commit to websocket.
pub use balsam_types::{LoggedEvent, UserId};
pub use error::ChannelError;
pub use hub::{Delivery, Subscription};
pub use in_process::InProcessLayer;
pub use layer::{ChannelLayer, DEFAULT_CAPACITY};

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
