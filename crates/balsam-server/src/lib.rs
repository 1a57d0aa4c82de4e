//! balsam-server: the Balsam central service. Wires configuration, storage, auth and the
//! HTTP surface together; the binary in `main.rs` is a thin CLI over this library.

pub mod app;
pub mod auth;
pub mod config;
pub mod http;
pub mod metrics;
pub mod per_address;
pub mod serve;
pub mod shutdown;
pub mod telemetry;

pub use app::{App, Application};
pub use config::Config;
