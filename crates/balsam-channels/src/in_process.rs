//! `InProcessLayer`: the single-process channel layer (the embedded default). Publishing
//! sends straight into the local hub; nothing crosses a process boundary.

use std::sync::Arc;

use crate::hub::{Hub, Subscription};
use crate::{ChannelError, ChannelLayer, LoggedEvent, UserId, DEFAULT_CAPACITY};

/// Per-user tokio broadcast groups in this process. Cheap to publish to a user nobody
/// watches; a subscriber more than `capacity` messages behind gets `Delivery::Gap`.
#[derive(Debug, Clone)]
pub struct InProcessLayer {
    hub: Arc<Hub>,
}

impl InProcessLayer {
    /// A layer whose subscribers may fall [`DEFAULT_CAPACITY`] messages behind.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }

    /// A layer whose subscribers may fall `capacity` messages behind before a `Gap`.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            hub: Arc::new(Hub::new(capacity)),
        }
    }

    /// Live subscriptions of `user` (for tests and metrics).
    pub fn local_subscribers(&self, user: UserId) -> usize {
        self.hub.subscriber_count(user)
    }

    /// Users with at least one live subscription (for tests and metrics).
    pub fn local_groups(&self) -> usize {
        self.hub.group_count()
    }
}

impl Default for InProcessLayer {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl ChannelLayer for InProcessLayer {
    async fn publish(&self, user: UserId, messages: &[LoggedEvent]) -> Result<(), ChannelError> {
        self.hub.send_messages(user, messages.iter().cloned());
        Ok(())
    }

    async fn subscribe(&self, user: UserId) -> Result<Subscription, ChannelError> {
        Ok(Subscription::new(
            user,
            self.hub.join(user),
            self.hub.clone(),
        ))
    }

    async fn ready(&self) -> Result<(), ChannelError> {
        Ok(())
    }

    fn name(&self) -> &'static str {
        "in-process"
    }
}
