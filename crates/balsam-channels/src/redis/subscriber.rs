//! The one subscriber connection per process: SUBSCRIBEs a user's channel for the first
//! local subscriber, UNSUBSCRIBEs after the last, fans frames out through the local hub, and
//! on a lost connection reconnects with backoff, resubscribes every group and sends each a
//! `Gap`. It must never leave a subscriber believing it saw everything when it may not have.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use rand::Rng;
use redis::aio::{PubSubSink, PubSubStream};
use redis::Client;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::timeout;

use super::codec::{self, channel_name, parse_channel_name, Frame};
use super::options::RedisOptions;
use crate::hub::Hub;
use crate::{ChannelError, UserId};

/// Requests from the layer to the subscriber task, handled in order.
pub(super) enum Command {
    /// Make sure `user`'s channel is subscribed on the live connection, then answer.
    Ensure {
        user: UserId,
        ack: oneshot::Sender<Result<(), ChannelError>>,
    },
    /// `user`'s local group went away: unsubscribe unless it came back meanwhile.
    Release(UserId),
}

/// State of the subscriber connection, for `ready` and start-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Link {
    Connecting,
    Up,
    Down,
}

pub(super) struct Subscriber {
    pub(super) client: Client,
    pub(super) hub: Arc<Hub>,
    pub(super) opts: RedisOptions,
    pub(super) link: watch::Sender<Link>,
}

struct Connection {
    sink: PubSubSink,
    stream: PubSubStream,
    subscribed: HashSet<UserId>,
}

enum Ended {
    /// Every handle of the layer is gone: stop.
    Shutdown,
    /// The connection failed: reconnect.
    Lost(String),
}

impl Subscriber {
    /// Runs until every layer handle and subscription is dropped.
    pub(super) async fn run(self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut backoff = self.opts.reconnect_min;
        loop {
            let attempt = self.connect();
            tokio::pin!(attempt);
            let connected = loop {
                tokio::select! {
                    result = &mut attempt => break result,
                    command = commands.recv() => match command {
                        Some(command) => refuse(command),
                        None => return,
                    },
                }
            };
            let conn = match connected {
                Ok(conn) => conn,
                Err(e) => {
                    let delay = jittered(backoff);
                    tracing::warn!(error = %e, redis.retry_in_ms = delay.as_millis() as u64, "redis subscriber cannot connect");
                    self.link.send_replace(Link::Down);
                    let sleep = tokio::time::sleep(delay);
                    tokio::pin!(sleep);
                    loop {
                        tokio::select! {
                            () = &mut sleep => break,
                            command = commands.recv() => match command {
                                Some(command) => refuse(command),
                                None => return,
                            },
                        }
                    }
                    backoff = (backoff * 2).min(self.opts.reconnect_max);
                    continue;
                }
            };
            backoff = self.opts.reconnect_min;
            // Whatever was published while no connection was subscribed is lost for the
            // groups that existed: tell them, after their channels are live again.
            self.hub.send_gap_to_all();
            self.link.send_replace(Link::Up);
            tracing::info!(
                redis.channels = conn.subscribed.len(),
                "redis subscriber connected"
            );
            match self.serve(conn, &mut commands).await {
                Ended::Shutdown => return,
                Ended::Lost(reason) => {
                    tracing::warn!(error = %reason, "redis subscriber connection lost; reconnecting");
                    self.link.send_replace(Link::Down);
                }
            }
        }
    }

    /// Opens the connection and subscribes the channel of every current local group.
    async fn connect(&self) -> Result<Connection, ChannelError> {
        let pubsub = timeout(self.opts.connect_timeout, self.client.get_async_pubsub())
            .await
            .map_err(|_| ChannelError::Timeout {
                op: "connect",
                after: self.opts.connect_timeout,
            })??;
        let (sink, stream) = pubsub.split();
        let mut subscribed = HashSet::new();
        // One channel per SUBSCRIBE (the client pairs one reply with one request), many in
        // flight at a time.
        for chunk in self.hub.users().chunks(256) {
            let requests = chunk.iter().map(|&user| {
                let mut sink = sink.clone();
                let channel = channel_name(&self.opts.channel_prefix, user);
                async move { sink.subscribe(channel).await }
            });
            let replies = timeout(
                self.opts.command_timeout,
                futures::future::join_all(requests),
            )
            .await
            .map_err(|_| ChannelError::Timeout {
                op: "subscribe",
                after: self.opts.command_timeout,
            })?;
            for reply in replies {
                reply?;
            }
            subscribed.extend(chunk);
        }
        Ok(Connection {
            sink,
            stream,
            subscribed,
        })
    }

    async fn serve(
        &self,
        mut conn: Connection,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> Ended {
        let mut ping = tokio::time::interval(self.opts.ping_interval);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ping.tick().await;
        loop {
            tokio::select! {
                msg = conn.stream.next() => match msg {
                    Some(msg) => self.dispatch(&msg),
                    None => return Ended::Lost("connection closed".into()),
                },
                command = commands.recv() => match command {
                    None => return Ended::Shutdown,
                    Some(Command::Ensure { user, ack }) => {
                        if conn.subscribed.contains(&user) {
                            let _ = ack.send(Ok(()));
                            continue;
                        }
                        match self.call("subscribe", conn.sink.subscribe(self.channel(user))).await {
                            Ok(()) => {
                                conn.subscribed.insert(user);
                                let _ = ack.send(Ok(()));
                            }
                            Err(e) => {
                                let reason = e.to_string();
                                let _ = ack.send(Err(e));
                                return Ended::Lost(reason);
                            }
                        }
                    }
                    Some(Command::Release(user)) => {
                        if let Err(e) = self.release(&mut conn, user).await {
                            return Ended::Lost(e.to_string());
                        }
                    }
                },
                _ = ping.tick() => {
                    if let Err(e) = self.call("ping", conn.sink.ping::<redis::Value>()).await {
                        return Ended::Lost(e.to_string());
                    }
                    // Catch any channel left over from a race between a release and a reconnect.
                    let stale: Vec<UserId> =
                        conn.subscribed.iter().copied().filter(|u| !self.hub.has_group(*u)).collect();
                    for user in stale {
                        if let Err(e) = self.release(&mut conn, user).await {
                            return Ended::Lost(e.to_string());
                        }
                    }
                }
            }
        }
    }

    /// Unsubscribes `user` if it has no local group any more.
    async fn release(&self, conn: &mut Connection, user: UserId) -> Result<(), ChannelError> {
        if self.hub.has_group(user) || !conn.subscribed.remove(&user) {
            return Ok(());
        }
        self.call("unsubscribe", conn.sink.unsubscribe(self.channel(user)))
            .await
    }

    /// Fans one PUBLISHed frame out to the local group; an undecodable frame is a `Gap`.
    fn dispatch(&self, msg: &redis::Msg) {
        let Some(user) = parse_channel_name(&self.opts.channel_prefix, msg.get_channel_name())
        else {
            return;
        };
        match codec::decode(msg.get_payload_bytes()) {
            Ok(Frame::Messages(messages)) => self.hub.send_messages(user, messages),
            Ok(Frame::Gap) => self.hub.send_gap(user),
            Err(reason) => {
                tracing::warn!(
                    user.id = user,
                    error = reason,
                    "undecodable channel frame; subscribers told to catch up"
                );
                self.hub.send_gap(user);
            }
        }
    }

    async fn call<T>(
        &self,
        op: &'static str,
        request: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, ChannelError> {
        let after = self.opts.command_timeout;
        timeout(after, request)
            .await
            .map_err(|_| ChannelError::Timeout { op, after })?
            .map_err(ChannelError::Backend)
    }

    fn channel(&self, user: UserId) -> String {
        channel_name(&self.opts.channel_prefix, user)
    }
}

/// Answers a command while there is no connection.
fn refuse(command: Command) {
    if let Command::Ensure { ack, .. } = command {
        let _ = ack.send(Err(ChannelError::Unavailable(
            "redis subscriber connection is down".into(),
        )));
    }
}

/// `base` ± 25 %, so replicas do not reconnect in lockstep.
fn jittered(base: Duration) -> Duration {
    base.mul_f64(rand::thread_rng().gen_range(0.75..1.25))
}
