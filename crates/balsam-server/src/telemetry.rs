//! Logging set-up: one subscriber, pretty or JSON. Never log tokens, passwords or bodies.

use crate::config::{LogFormat, TelemetryConfig};
use std::io::IsTerminal;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Installs the global subscriber. `RUST_LOG` overrides the configured filter.
pub fn init(config: &TelemetryConfig) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log_filter));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match config.log_format {
        LogFormat::Pretty => registry
            .with(
                fmt::layer()
                    .with_target(false)
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true),
            )
            .try_init(),
    };
    // A second init (tests spawning several apps) keeps the first subscriber.
    drop(result);
}
