//! Start-up and the server lifecycle: open and migrate the store, start the channel layer
//! and its commit publisher, build the `ServerState`, bind, serve, drain.

use crate::background;
use crate::config::Config;
use crate::state::ServerState;
use crate::{auth, http};
use anyhow::Context;
use balsam_channels::ChannelLayer;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tracing::Instrument;

/// Opens and migrates the store, loads (or creates) the token-signing secret and starts
/// the channel layer, whose publishing task the store feeds after every commit.
pub async fn build_state(config: Config) -> anyhow::Result<ServerState> {
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
        .instrument(tracing::info_span!("migrate"))
        .await
        .context("cannot apply database migrations")?;
    let secret = auth::load_or_create_secret(&config)?;
    let tokens = auth::TokenKeys::new(&secret, config.auth.token_ttl_hours);
    crate::metrics::init();
    let channels = channel_layer(&config).await?;
    store.on_commit(background::publisher(channels.clone()));
    Ok(ServerState::new(config, store, channels, tokens))
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

/// A bound, not yet running server. Binding first lets tests use port 0.
pub struct Application {
    listener: TcpListener,
    state: ServerState,
}

impl Application {
    /// Builds the state and binds `http.bind`.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let bind = config.http.bind.clone();
        let state = build_state(config).await?;
        let listener = TcpListener::bind(&bind)
            .await
            .with_context(|| format!("cannot listen on {bind}"))?;
        Ok(Application { listener, state })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> &ServerState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests and closes the store.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let store = self.state.store.clone();
        let stop = self.state.shutdown_tx.clone();
        let sweeper = tokio::spawn(background::sweep_sessions_forever(self.state.clone()));
        let pruner = tokio::spawn(background::prune_event_log_forever(self.state.clone()));
        let http_config = &self.state.config.http;
        let options = crate::serve::Options {
            header_read_timeout: std::time::Duration::from_secs(
                http_config.header_read_timeout_secs.max(1),
            ),
            connections: crate::per_address::PerAddress::new(
                http_config.max_connections_per_address,
            ),
            trusted_proxies: http_config.trusted_proxies.clone(),
        };
        let router = http::router(self.state);
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
