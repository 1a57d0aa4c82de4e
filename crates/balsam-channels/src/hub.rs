//! The local fan-out hub shared by both layers: one bounded tokio broadcast per user group,
//! created on the first subscriber and removed with the last; and [`Subscription`], which
//! turns a lagging receiver into `Delivery::Gap` instead of skipping silently.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll};

use futures::stream::{BoxStream, Stream, StreamExt};
use tokio::sync::broadcast;

use crate::{LoggedEvent, UserId};

/// What a subscriber receives.
#[derive(Clone, Debug, PartialEq)]
pub enum Delivery {
    /// A published event-log entry.
    Event(LoggedEvent),
    /// Messages may have been lost (local lag, Redis reconnect, an undecodable frame):
    /// catch up from the event log.
    Gap,
}

/// Told when a [`Subscription`] is dropped, so the layer can leave the user's group.
pub(crate) trait Leave: Send + Sync + 'static {
    fn leave(&self, user: UserId);
}

/// User groups of one process. Sending never blocks: a full group overwrites its oldest
/// entries and the receivers that had not read them get a `Gap`.
#[derive(Debug)]
pub(crate) struct Hub {
    groups: RwLock<HashMap<UserId, broadcast::Sender<Delivery>>>,
    capacity: usize,
}

impl Hub {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            groups: RwLock::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// Joins `user`'s group, creating it if needed.
    pub(crate) fn join(&self, user: UserId) -> broadcast::Receiver<Delivery> {
        let mut groups = self.groups.write().unwrap_or_else(PoisonError::into_inner);
        groups
            .entry(user)
            .or_insert_with(|| broadcast::channel(self.capacity).0)
            .subscribe()
    }

    /// Removes `user`'s group if no receiver is left; returns whether it did.
    pub(crate) fn remove_if_empty(&self, user: UserId) -> bool {
        let mut groups = self.groups.write().unwrap_or_else(PoisonError::into_inner);
        match groups.get(&user) {
            Some(tx) if tx.receiver_count() == 0 => {
                groups.remove(&user);
                true
            }
            _ => false,
        }
    }

    /// Sends `messages` to `user`'s group, in order; a no-op without subscribers.
    pub(crate) fn send_messages(
        &self,
        user: UserId,
        messages: impl IntoIterator<Item = LoggedEvent>,
    ) {
        let groups = self.groups.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(tx) = groups.get(&user) {
            for m in messages {
                // Err only means every receiver left meanwhile.
                let _ = tx.send(Delivery::Event(m));
            }
        }
    }

    /// Tells `user`'s group that messages may have been lost.
    pub(crate) fn send_gap(&self, user: UserId) {
        let groups = self.groups.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(tx) = groups.get(&user) {
            let _ = tx.send(Delivery::Gap);
        }
    }

    /// Tells every group that messages may have been lost.
    pub(crate) fn send_gap_to_all(&self) {
        let groups = self.groups.read().unwrap_or_else(PoisonError::into_inner);
        for tx in groups.values() {
            let _ = tx.send(Delivery::Gap);
        }
    }

    /// Whether `user` has a group (at least one live subscriber, or one being set up).
    pub(crate) fn has_group(&self, user: UserId) -> bool {
        self.groups
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(&user)
    }

    /// The users that have a group.
    pub(crate) fn users(&self) -> Vec<UserId> {
        self.groups
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect()
    }

    /// Number of live subscriptions of `user` in this process.
    pub(crate) fn subscriber_count(&self, user: UserId) -> usize {
        self.groups
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&user)
            .map_or(0, broadcast::Sender::receiver_count)
    }

    /// Number of user groups in this process.
    pub(crate) fn group_count(&self) -> usize {
        self.groups
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Leave for Hub {
    fn leave(&self, user: UserId) {
        self.remove_if_empty(user);
    }
}

/// A stream of [`Delivery`] for one user (`futures::Stream<Item = Delivery> + Unpin + Send`);
/// dropping it unsubscribes. It keeps its layer alive and does not end while it exists.
pub struct Subscription {
    user: UserId,
    stream: Option<BoxStream<'static, Delivery>>,
    leave: Arc<dyn Leave>,
}

impl Subscription {
    pub(crate) fn new(
        user: UserId,
        rx: broadcast::Receiver<Delivery>,
        leave: Arc<dyn Leave>,
    ) -> Self {
        Self {
            user,
            stream: Some(deliveries(rx).boxed()),
            leave,
        }
    }

    /// The user whose group this subscription belongs to.
    pub fn user(&self) -> UserId {
        self.user
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Stream for Subscription {
    type Item = Delivery;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        match self.stream.as_mut() {
            Some(s) => s.poll_next_unpin(cx),
            None => Poll::Ready(None),
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // Drop the receiver first so the group sees one receiver fewer.
        self.stream = None;
        self.leave.leave(self.user);
    }
}

/// The receiver as a stream; `Lagged` becomes `Gap`. Gaps are never merged: a `Gap` after
/// one the consumer already acted on reports new losses.
fn deliveries(rx: broadcast::Receiver<Delivery>) -> impl Stream<Item = Delivery> + Send {
    futures::stream::unfold(rx, |mut rx| async move {
        let delivery = match rx.recv().await {
            Ok(d) => d,
            Err(broadcast::error::RecvError::Lagged(_)) => Delivery::Gap,
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        Some((delivery, rx))
    })
}

/// A test entry from a sequence number and a JSON text.
#[cfg(test)]
pub(crate) fn event(seq: i64, payload: impl Into<std::sync::Arc<str>>) -> LoggedEvent {
    LoggedEvent {
        seq,
        payload: payload.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    fn msg(seq: i64) -> LoggedEvent {
        event(seq, format!("{{\"seq\":{seq}}}"))
    }

    #[tokio::test]
    async fn a_group_lives_exactly_as_long_as_its_subscribers() {
        let hub = Arc::new(Hub::new(8));
        let a = Subscription::new(7, hub.join(7), hub.clone());
        let b = Subscription::new(7, hub.join(7), hub.clone());
        assert_eq!(hub.subscriber_count(7), 2);
        drop(a);
        assert!(hub.has_group(7));
        drop(b);
        assert!(!hub.has_group(7));
        assert_eq!(hub.group_count(), 0);
    }

    #[tokio::test]
    async fn a_lagging_receiver_gets_one_gap_then_the_newest_messages() {
        let hub = Arc::new(Hub::new(4));
        let mut sub = Subscription::new(1, hub.join(1), hub.clone());
        hub.send_messages(1, (1..=10).map(msg));
        hub.send_gap(1);
        let mut got = Vec::new();
        while let Some(Some(d)) = sub.next().now_or_never() {
            got.push(d);
        }
        assert_eq!(
            got,
            vec![
                Delivery::Gap,
                Delivery::Event(msg(8)),
                Delivery::Event(msg(9)),
                Delivery::Event(msg(10)),
                Delivery::Gap
            ]
        );
    }

    #[tokio::test]
    async fn every_gap_is_delivered() {
        let hub = Arc::new(Hub::new(4));
        let mut sub = Subscription::new(1, hub.join(1), hub.clone());
        hub.send_gap(1);
        hub.send_gap_to_all();
        hub.send_messages(1, [msg(1)]);
        assert_eq!(sub.next().await, Some(Delivery::Gap));
        assert_eq!(sub.next().await, Some(Delivery::Gap));
        assert_eq!(sub.next().await, Some(Delivery::Event(msg(1))));
    }

    #[test]
    fn a_subscription_is_a_sendable_unpin_stream() {
        fn check<T: Stream<Item = Delivery> + Unpin + Send + 'static>() {}
        check::<Subscription>();
    }
}
