//! Gap notices: after a failed publish, every replica's subscribers of that user must learn
//! that they may have missed a message. A background task PUBLISHes a gap frame to each such
//! user's channel, retrying with backoff until Redis takes it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{watch, Notify};

use super::codec::{channel_name, GAP_FRAME};
use super::options::RedisOptions;
use super::publisher::Publisher;
use crate::UserId;

/// Users owed a gap notice.
#[derive(Default)]
pub(super) struct GapNotices {
    pending: Mutex<HashSet<UserId>>,
    wake: Notify,
}

impl GapNotices {
    /// Queues a notice for `user`; never blocks.
    pub(super) fn owe(&self, user: UserId) {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(user);
        self.wake.notify_one();
    }

    fn take(&self) -> Vec<UserId> {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .collect()
    }

    fn put_back(&self, users: Vec<UserId>) {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(users);
    }

    /// Number of users still owed a notice (for tests and metrics).
    pub(super) fn len(&self) -> usize {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Sends owed notices until `shutdown`'s sender is dropped.
    pub(super) async fn run(
        self: Arc<Self>,
        publisher: Arc<Publisher>,
        opts: RedisOptions,
        mut shutdown: watch::Receiver<()>,
    ) {
        let mut backoff = opts.reconnect_min;
        loop {
            tokio::select! {
                () = self.wake.notified() => {}
                closed = shutdown.changed() => if closed.is_err() { return },
            }
            loop {
                let users = self.take();
                if users.is_empty() {
                    backoff = opts.reconnect_min;
                    break;
                }
                let mut pipe = redis::pipe();
                for &user in &users {
                    pipe.cmd("PUBLISH")
                        .arg(channel_name(&opts.channel_prefix, user))
                        .arg(GAP_FRAME)
                        .ignore();
                }
                if let Err(e) = publisher.run("gap notice", &pipe).await {
                    tracing::debug!(error = %e, gap.users = users.len(), "gap notices not sent yet");
                    self.put_back(users);
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        closed = shutdown.changed() => if closed.is_err() { return },
                    }
                    backoff = (backoff * 2).min(opts.reconnect_max);
                }
            }
        }
    }
}
