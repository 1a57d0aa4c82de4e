//! `RedisLayer`: the multi-replica channel layer over Redis pub/sub. Owns the topology
//! (one publisher connection and one subscriber connection per process, a local hub for
//! fan-out) and the outage rules (bounded publish, reconnect, `Gap` to every group).
//!
//! * Publish: one PUBLISH per batch to `balsam:user:<id>` (split into frames of at most
//!   [`RedisOptions::max_frame_bytes`], pipelined), binary-framed (see `codec`). Local
//!   subscribers receive it back through Redis like every other replica, so there is one
//!   path and one order.
//! * A failed publish sends `Gap` to this replica's subscribers of that user at once and
//!   queues a gap frame for the channel, PUBLISHed as soon as Redis takes it, so the other
//!   replicas' subscribers hear of the loss too (see `notices`).
//! * Subscribe: the first local subscriber of a user makes the subscriber task SUBSCRIBE the
//!   channel, and `subscribe` returns only once Redis confirmed it; the last one leaving
//!   UNSUBSCRIBEs it.

mod codec;
mod notices;
mod options;
mod publisher;
mod subscriber;

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::timeout;

use crate::hub::{Hub, Leave, Subscription};
use crate::{ChannelError, ChannelLayer, LoggedEvent, UserId};
use notices::GapNotices;
pub use options::RedisOptions;
use publisher::Publisher;
use subscriber::{Command, Link, Subscriber};

/// Redis pub/sub channel layer. Cloning shares the connections.
#[derive(Clone)]
pub struct RedisLayer {
    shared: Arc<Shared>,
}

struct Shared {
    hub: Arc<Hub>,
    publisher: Arc<Publisher>,
    notices: Arc<GapNotices>,
    commands: mpsc::UnboundedSender<Command>,
    link: watch::Receiver<Link>,
    opts: RedisOptions,
    /// Dropped with the layer: stops the gap-notice task.
    _shutdown: watch::Sender<()>,
}

impl RedisLayer {
    /// Starts the layer for `url` (`redis://[user:password@]host[:port][/db]` or
    /// `redis+unix:///path`; TLS is not built in). Waits up to `connect_timeout` for the subscriber
    /// connection, but an unreachable Redis is not an error: the layer keeps reconnecting and
    /// [`ChannelLayer::ready`] says so. Must be called inside a tokio runtime.
    pub async fn connect(url: &str, opts: RedisOptions) -> Result<Self, ChannelError> {
        // The URL may hold a password: never echo it.
        let client = redis::Client::open(url).map_err(|e| {
            ChannelError::Config(format!(
                "invalid Redis URL: {}",
                e.detail().unwrap_or("cannot parse")
            ))
        })?;
        let hub = Arc::new(Hub::new(opts.capacity));
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (link_tx, mut link) = watch::channel(Link::Connecting);
        let subscriber = Subscriber {
            client: client.clone(),
            hub: hub.clone(),
            opts: opts.clone(),
            link: link_tx,
        };
        tokio::spawn(subscriber.run(command_rx));
        let publisher = Arc::new(Publisher::new(client, &opts));
        let notices = Arc::new(GapNotices::default());
        let (shutdown, shutdown_rx) = watch::channel(());
        tokio::spawn(
            notices
                .clone()
                .run(publisher.clone(), opts.clone(), shutdown_rx),
        );
        // Open the publisher connection now rather than on the first request.
        let warm_up = ping();
        let (_, _) = tokio::join!(
            timeout(
                opts.connect_timeout,
                link.wait_for(|l| *l != Link::Connecting)
            ),
            publisher.run("ping", &warm_up),
        );
        if *link.borrow() != Link::Up {
            tracing::warn!(
                "redis channel layer starting without a connection; retrying in the background"
            );
        }
        Ok(Self {
            shared: Arc::new(Shared {
                hub,
                publisher,
                notices,
                commands,
                link,
                opts,
                _shutdown: shutdown,
            }),
        })
    }

    /// Live subscriptions of `user` in this process (for tests and metrics).
    pub fn local_subscribers(&self, user: UserId) -> usize {
        self.shared.hub.subscriber_count(user)
    }

    /// Users with at least one live subscription in this process (for tests and metrics).
    pub fn local_groups(&self) -> usize {
        self.shared.hub.group_count()
    }

    /// Whether the subscriber connection is up right now.
    pub fn is_connected(&self) -> bool {
        *self.shared.link.borrow() == Link::Up
    }

    /// Users whose failed publish has not yet been announced to the other replicas.
    pub fn pending_gap_notices(&self) -> usize {
        self.shared.notices.len()
    }

    /// The Redis channel that carries `user`'s messages.
    pub fn channel_name(&self, user: UserId) -> String {
        codec::channel_name(&self.shared.opts.channel_prefix, user)
    }
}

impl std::fmt::Debug for RedisLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No client here: its Debug would print the URL and with it any password.
        f.debug_struct("RedisLayer")
            .field("connected", &self.is_connected())
            .field("groups", &self.local_groups())
            .finish_non_exhaustive()
    }
}

impl Leave for Shared {
    fn leave(&self, user: UserId) {
        if self.hub.remove_if_empty(user) {
            // Err only when the task is gone, and then nothing is subscribed anyway.
            let _ = self.commands.send(Command::Release(user));
        }
    }
}

#[async_trait::async_trait]
impl ChannelLayer for RedisLayer {
    async fn publish(&self, user: UserId, messages: &[LoggedEvent]) -> Result<(), ChannelError> {
        let frames = codec::encode(messages, self.shared.opts.max_frame_bytes)?;
        if frames.is_empty() {
            return Ok(());
        }
        let channel = self.channel_name(user);
        let mut pipe = redis::pipe();
        for frame in frames {
            pipe.cmd("PUBLISH").arg(&channel).arg(frame).ignore();
        }
        let result = self.shared.publisher.run("publish", &pipe).await;
        if result.is_err() {
            // Never silent: this replica's subscribers hear of it now, every replica's as soon
            // as Redis takes the gap notice.
            self.shared.hub.send_gap(user);
            self.shared.notices.owe(user);
        }
        result
    }

    async fn subscribe(&self, user: UserId) -> Result<Subscription, ChannelError> {
        let shared = &self.shared;
        // Join first: if the channel is already live, nothing published from here on is missed.
        let subscription = Subscription::new(user, shared.hub.join(user), shared.clone());
        let (ack, confirmed) = oneshot::channel();
        shared
            .commands
            .send(Command::Ensure { user, ack })
            .map_err(|_| ChannelError::Closed)?;
        let after = shared.opts.subscribe_timeout;
        match timeout(after, confirmed).await {
            Ok(Ok(Ok(()))) => Ok(subscription),
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(_)) => Err(ChannelError::Closed),
            Err(_) => Err(ChannelError::Timeout {
                op: "subscribe",
                after,
            }),
        }
    }

    async fn ready(&self) -> Result<(), ChannelError> {
        if !self.is_connected() {
            return Err(ChannelError::Unavailable(
                "redis subscriber connection is down".into(),
            ));
        }
        let mut ping = redis::pipe();
        ping.cmd("PING").ignore();
        self.shared.publisher.run("ping", &ping).await
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}

fn ping() -> redis::Pipeline {
    let mut pipe = redis::pipe();
    pipe.cmd("PING").ignore();
    pipe
}
