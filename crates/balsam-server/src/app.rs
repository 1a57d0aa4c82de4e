//! The application: shared state (`App`) and the server lifecycle (`Application`).

use crate::auth::{self, TokenKeys};
use crate::config::Config;
use crate::http;
use anyhow::Context;
use balsam_store::Store;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower::Layer;

/// Shared state handed to every handler. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    pub tokens: Arc<TokenKeys>,
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
        Ok(App {
            store,
            config: Arc::new(config),
            tokens: Arc::new(tokens),
        })
    }
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
        let sweeper = tokio::spawn(sweep_sessions_forever(self.app.clone()));
        let router = http::router(self.app);
        let service = tower::util::MapRequestLayer::new(http::canonical_slashes).layer(router);
        axum::serve(
            self.listener,
            axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
                SocketAddr,
            >(service),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        sweeper.abort();
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
