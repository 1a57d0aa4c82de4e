//! The contract every channel layer implements: `ChannelLayer`. The entries it carries are
//! the event log's own `LoggedEvent`s.

use balsam_types::{LoggedEvent, UserId};

use crate::error::ChannelError;
use crate::hub::Subscription;

/// Default number of deliveries a local subscriber may fall behind before it gets a `Gap`.
pub const DEFAULT_CAPACITY: usize = 4096;

/// A per-user publish/subscribe layer shared by every request handler of a process.
#[async_trait::async_trait]
pub trait ChannelLayer: Send + Sync + 'static {
    /// Publishes a batch of one user's event-log entries (in seq order) to every subscriber of that
    /// user, on every replica. Never blocks for long: on a backend outage it fails within the
    /// layer's time budget. On `Err` the subscribers of that user get a `Gap` (this replica's
    /// at once, other replicas' once Redis accepts the notice), and the messages may still
    /// arrive late (a timed-out PUBLISH can reach Redis). Log and count the error; do not
    /// fail the request: the event log holds the messages.
    async fn publish(&self, user: UserId, events: &[LoggedEvent]) -> Result<(), ChannelError>;

    /// Subscribes to one user's group; yields what is published after this returns.
    async fn subscribe(&self, user: UserId) -> Result<Subscription, ChannelError>;

    /// Readiness: `Ok` when the layer can deliver (Redis reachable), for `/health`.
    async fn ready(&self) -> Result<(), ChannelError>;

    /// `"in-process"` or `"redis"`, for logs and `/health`.
    fn name(&self) -> &'static str;
}
