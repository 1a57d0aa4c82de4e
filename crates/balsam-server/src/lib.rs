//! balsam-server: the Balsam central service. Wires configuration, storage, auth and the
//! HTTP surface together; the binary in `main.rs` is a thin CLI over this library.

pub mod auth;
mod background;
pub mod config;
pub mod http;
pub mod metrics;
pub mod per_address;
pub mod serve;
pub mod shutdown;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use config::Config;
pub use startup::Application;
pub use state::ServerState;
