//! The application: shared state (`App`) and the server lifecycle (`Application`).

use crate::auth::password::Hasher;
use crate::auth::revocation::Generations;
use crate::auth::throttle::LoginThrottle;
use crate::auth::{self, TokenKeys};
use crate::config::Config;
use crate::http;
use anyhow::Context;
use balsam_channels::{ChannelLayer, Message};
use balsam_store::Store;
use balsam_types::{LoggedEvent, UserId};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Shared state handed to every handler. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub channels: Arc<dyn ChannelLayer>,
    pub config: Arc<Config>,
    pub tokens: Arc<TokenKeys>,
    /// Users' token generations, for revocation.
    pub generations: Arc<Generations>,
    /// The bounded password-hashing pool.
    pub hasher: Arc<Hasher>,
    /// Login rate limits.
    pub login_throttle: Arc<LoginThrottle>,
    /// Registration rate limits.
    pub registration_throttle: Arc<crate::auth::throttle::RegistrationThrottle>,
    /// Slots for websocket replay pages (bounds their memory across all sockets).
    pub replays: Arc<tokio::sync::Semaphore>,
    /// Open websockets per client address.
    pub websockets: Arc<crate::per_address::PerAddress>,
    /// Flips to `true` when the server starts shutting down (websockets close with 1001).
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    shutdown_tx: Arc<tokio::sync::watch::Sender<bool>>,
}

impl App {
    /// Opens and migrates the store and loads (or creates) the token-signing secret.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                config.data_dir.display()
            )
        })?;
        let url = config.database_url();
        let store = balsam_store::connect(&url, config.database.max_connections)
            .await
            .with_context(|| {
                format!(
                    "cannot open the database {}",
                    balsam_store::redact_url(&url)
                )
            })?;
        store
            .migrate()
            .await
            .context("cannot apply database migrations")?;
        let secret = auth::load_or_create_secret(&config)?;
        let tokens = TokenKeys::new(&secret, config.auth.token_ttl_hours);
        crate::metrics::init();
        let channels = channel_layer(&config).await?;
        store.on_commit(publisher(channels.clone()));
        let (shutdown_tx, shutdown) = tokio::sync::watch::channel(false);
        let auth = &config.auth;
        let generations =
            Generations::new(std::time::Duration::from_millis(auth.revocation_check_ms));
        let hasher = Hasher::new(
            auth.max_concurrent_hashes,
            std::time::Duration::from_secs(auth.hash_queue_secs),
        );
        let login_throttle = LoginThrottle::new(auth);
        Ok(App {
            store,
            channels,
            tokens: Arc::new(tokens),
            generations: Arc::new(generations),
            hasher: Arc::new(hasher),
            login_throttle: Arc::new(login_throttle),
            registration_throttle: Arc::new(crate::auth::throttle::RegistrationThrottle::new(
                config.auth.registrations_per_address_per_hour,
            )),
            websockets: crate::per_address::PerAddress::new(config.ws.max_per_address),
            replays: Arc::new(tokio::sync::Semaphore::new(
                config.ws.max_concurrent_replays.max(1),
            )),
            config: Arc::new(config),
            shutdown,
            shutdown_tx: Arc::new(shutdown_tx),
        })
    }
}

/// The configured channel layer: Redis when `channels.redis_url` is set, else in-process.
/// An unreachable Redis does not stop the server; the layer reconnects in the background.
async fn channel_layer(config: &Config) -> anyhow::Result<Arc<dyn ChannelLayer>> {
    let url = config.channels.redis_url.trim();
    if url.is_empty() {
        return Ok(Arc::new(balsam_channels::InProcessLayer::new()));
    }
    let options = balsam_channels::RedisOptions {
        channel_prefix: config.channels.redis_prefix.clone(),
        ..Default::default()
    };
    let layer = balsam_channels::RedisLayer::connect(url, options)
        .await
        .with_context(|| {
            format!(
                "cannot start the Redis channel layer {}",
                balsam_store::redact_url(url)
            )
        })?;
    Ok(Arc::new(layer))
}

/// The commit listener: queues each commit's new log entries for one publishing task,
/// which keeps this process's publishes in commit order. A failed publish loses nothing
/// (subscribers notice the gap by sequence number and read the log); it is only logged.
fn publisher(channels: Arc<dyn ChannelLayer>) -> balsam_store::CommitListener {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(UserId, Vec<LoggedEvent>)>();
    tokio::spawn(async move {
        while let Some((user, events)) = rx.recv().await {
            let messages: Vec<Message> = events
                .into_iter()
                .map(|e| Message {
                    seq: e.seq,
                    payload: e.payload,
                })
                .collect();
            match channels.publish(user, &messages).await {
                Ok(()) => metrics::counter!(crate::metrics::EVENTS_PUBLISHED)
                    .increment(messages.len() as u64),
                Err(err) => {
                    metrics::counter!(crate::metrics::PUBLISH_FAILURES).increment(1);
                    tracing::warn!(user.id = user, error = %err, "publish failed; subscribers will catch up from the event log");
                }
            }
        }
    });
    Arc::new(move |user, events| {
        // Fails only when the publishing task is gone (runtime shutting down).
        let _ = tx.send((user, events));
    })
}

/// A bound, not yet running server. Binding first lets tests use port 0.
pub struct Application {
    listener: TcpListener,
    app: App,
}

impl Application {
    /// Builds the state and binds `http.bind`.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let bind = config.http.bind.clone();
        let app = App::build(config).await?;
        let listener = TcpListener::bind(&bind)
            .await
            .with_context(|| format!("cannot listen on {bind}"))?;
        Ok(Application { listener, app })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests and closes the store.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let store = self.app.store.clone();
        let stop = self.app.shutdown_tx.clone();
        let sweeper = tokio::spawn(sweep_sessions_forever(self.app.clone()));
        let pruner = tokio::spawn(prune_event_log_forever(self.app.clone()));
        let http_config = &self.app.config.http;
        let options = crate::serve::Options {
            header_read_timeout: std::time::Duration::from_secs(
                http_config.header_read_timeout_secs.max(1),
            ),
            connections: crate::per_address::PerAddress::new(
                http_config.max_connections_per_address,
            ),
            trusted_proxies: http_config.trusted_proxies.clone(),
        };
        let router = http::router(self.app);
        let shutdown = async move {
            shutdown.await;
            // Tell websockets first: they close with 1001 and the drain can finish.
            let _ = stop.send(true);
        };
        crate::serve::serve(self.listener, router, options, shutdown).await;
        sweeper.abort();
        pruner.abort();
        store.close().await;
        Ok(())
    }
}

/// Expires stale Sessions of every user, every `sessions.sweep_interval_secs` (upstream
/// only swept on the same user's next session call, so a user whose launchers all died
/// kept their jobs locked).
async fn sweep_sessions_forever(app: App) {
    let period = std::time::Duration::from_secs(app.config.sessions.sweep_interval_secs.max(1));
    let expire = chrono::Duration::seconds(
        i64::try_from(app.config.sessions.expire_after_secs).unwrap_or(300),
    );
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let cutoff = balsam_types::time::now() - expire;
        match app.store.sweep_sessions(None, cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(session.count = n, "expired stale sessions"),
            Err(err) => tracing::warn!(error = ?err, "session sweep failed"),
        }
    }
}

/// Prunes the event log to its retention (age and per-user count).
async fn prune_event_log_forever(app: App) {
    let events = &app.config.events;
    let period = std::time::Duration::from_secs(events.prune_interval_secs.max(1));
    let retention = chrono::Duration::hours(i64::try_from(events.retention_hours).unwrap_or(72));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let cutoff = balsam_types::time::now() - retention;
        match app.store.prune_event_log(cutoff, events.max_per_user).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(event.count = n, "pruned the event log"),
            Err(err) => tracing::warn!(error = ?err, "event log pruning failed"),
        }
    }
}
