//! The server's background tasks: the commit listener's publishing task, the stale-session
//! sweep and event-log pruning. Started by `startup`; they only read `ServerState`.

use crate::state::ServerState;
use balsam_channels::ChannelLayer;
use balsam_types::{LoggedEvent, UserId};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::MissedTickBehavior;
use tracing::Instrument;

/// The commit listener: queues each commit's new log entries for one publishing task,
/// which keeps this process's publishes in commit order. A failed publish loses nothing
/// (subscribers notice the gap by sequence number and read the log); it is only logged.
pub fn publisher(channels: Arc<dyn ChannelLayer>) -> balsam_store::CommitListener {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(UserId, Vec<LoggedEvent>)>();
    tokio::spawn(async move {
        while let Some((user, events)) = rx.recv().await {
            publish(channels.as_ref(), user, &events).await;
        }
    });
    Arc::new(move |user, events| {
        // Fails only when the publishing task is gone (runtime shutting down).
        let _ = tx.send((user, events));
    })
}

/// Publishes one commit's entries; a failure is counted and logged, never retried.
#[tracing::instrument(name = "publish", skip_all, fields(user.id = user, event.count = events.len()))]
async fn publish(channels: &dyn ChannelLayer, user: UserId, events: &[LoggedEvent]) {
    match channels.publish(user, events).await {
        Ok(()) => {
            metrics::counter!(crate::metrics::EVENTS_PUBLISHED).increment(events.len() as u64)
        }
        Err(err) => {
            metrics::counter!(crate::metrics::PUBLISH_FAILURES).increment(1);
            tracing::warn!(user.id = user, error = %err, "publish failed; subscribers will catch up from the event log");
        }
    }
}

/// Expires stale Sessions of every user, every `sessions.sweep_interval_secs` (upstream
/// only swept on the same user's next session call, so a user whose launchers all died
/// kept their jobs locked).
pub async fn sweep_sessions_forever(state: ServerState) {
    let sessions = &state.config.sessions;
    let expire =
        chrono::Duration::seconds(i64::try_from(sessions.expire_after_secs).unwrap_or(300));
    every(sessions.sweep_interval_secs, || async {
        let cutoff = balsam_types::time::now() - expire;
        let span = tracing::info_span!("sweep_sessions");
        match state
            .store
            .sweep_sessions(None, cutoff)
            .instrument(span)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(session.count = n, "expired stale sessions"),
            Err(err) => tracing::warn!(error = ?err, "session sweep failed"),
        }
    })
    .await;
}

/// Prunes the event log to its retention (age and per-user count).
pub async fn prune_event_log_forever(state: ServerState) {
    let events = &state.config.events;
    let retention = chrono::Duration::hours(i64::try_from(events.retention_hours).unwrap_or(72));
    every(events.prune_interval_secs, || async {
        let cutoff = balsam_types::time::now() - retention;
        match state
            .store
            .prune_event_log(cutoff, events.max_per_user)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(event.count = n, "pruned the event log"),
            Err(err) => tracing::warn!(error = ?err, "event log pruning failed"),
        }
    })
    .await;
}

/// Runs `task` every `period_secs` (at least 1), forever; a slow run delays the next.
async fn every<F, Fut>(period_secs: u64, mut task: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut tick = tokio::time::interval(Duration::from_secs(period_secs.max(1)));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        task().await;
    }
}
