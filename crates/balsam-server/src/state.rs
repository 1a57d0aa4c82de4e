//! `ServerState`: what every handler receives (the store, the channel layer, config and
//! the auth helpers). Handlers depend on this module; it depends on no handler.
//!
//! Repetition note: this file spells out a step another crate's test or client spells out
//! too (starting a server, waiting for a port, a call with its error handling); crates do
//! not share test code.

use crate::auth::password::Hasher;
use crate::auth::revocation::Generations;
use crate::auth::throttle::{LoginThrottle, RegistrationThrottle};
use crate::auth::token::TokenKeys;
use crate::config::Config;
use crate::per_address::PerAddress;
use balsam_channels::ChannelLayer;
use balsam_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};

/// Shared state handed to every handler. Cheap to clone. (Not to be confused with a
/// Balsam App, `balsam_types::App`.)
#[derive(Clone)]
pub struct ServerState {
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
    pub registration_throttle: Arc<RegistrationThrottle>,
    /// Slots for websocket replay pages (bounds their memory across all sockets).
    pub replays: Arc<Semaphore>,
    /// Open websockets per client address.
    pub websockets: Arc<PerAddress>,
    /// Flips to `true` when the server starts shutting down (websockets close with 1001).
    pub shutdown: watch::Receiver<bool>,
    pub(crate) shutdown_tx: Arc<watch::Sender<bool>>,
}

impl ServerState {
    /// The state over an open, migrated store and a running channel layer; the limits and
    /// pools come from `config`.
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        channels: Arc<dyn ChannelLayer>,
        tokens: TokenKeys,
    ) -> ServerState {
        let (shutdown_tx, shutdown) = watch::channel(false);
        let auth = &config.auth;
        let generations = Generations::new(Duration::from_millis(auth.revocation_check_ms));
        let hasher = Hasher::new(
            auth.max_concurrent_hashes,
            Duration::from_secs(auth.hash_queue_secs),
        );
        ServerState {
            store,
            channels,
            tokens: Arc::new(tokens),
            generations: Arc::new(generations),
            hasher: Arc::new(hasher),
            login_throttle: Arc::new(LoginThrottle::new(auth)),
            registration_throttle: Arc::new(RegistrationThrottle::new(
                auth.registrations_per_address_per_hour,
            )),
            websockets: PerAddress::new(config.ws.max_per_address),
            replays: Arc::new(Semaphore::new(config.ws.max_concurrent_replays.max(1))),
            config: Arc::new(config),
            shutdown,
            shutdown_tx: Arc::new(shutdown_tx),
        }
    }
}
