//! `ChannelError`, the one error type of the channel layer. Messages never contain a
//! Redis URL (it may carry a password).

use std::time::Duration;

/// Why a channel-layer operation failed. None of these lose data the event log holds.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// The backend is unreachable right now (Redis down or reconnecting); retry later.
    #[error("channel layer unavailable: {0}")]
    Unavailable(String),
    /// A backend operation did not finish within its time budget.
    #[error("channel layer timed out after {after:?} during {op}")]
    Timeout {
        /// The operation: `publish`, `subscribe`, `ping`.
        op: &'static str,
        /// The budget that was exceeded.
        after: Duration,
    },
    /// Redis answered with an error or the connection failed mid-command.
    #[error("redis: {0}")]
    Backend(#[source] redis::RedisError),
    /// A message cannot be encoded (payload over 4 GiB).
    #[error("message too large: {0} bytes")]
    TooLarge(usize),
    /// The configuration is invalid (for example an unparsable Redis URL).
    #[error("invalid channel layer config: {0}")]
    Config(String),
    /// The layer's background task has stopped.
    #[error("channel layer closed")]
    Closed,
}

impl From<redis::RedisError> for ChannelError {
    fn from(e: redis::RedisError) -> Self {
        ChannelError::Backend(e)
    }
}
