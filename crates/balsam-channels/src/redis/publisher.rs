//! The publishing side of the Redis layer: one multiplexed connection shared by every
//! request, reconnected lazily, with a hard time budget so a Redis outage never holds a
//! request for long.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client};
use tokio::sync::Mutex;
use tokio::time::{timeout, Instant};

use super::options::RedisOptions;
use crate::ChannelError;

pub(super) struct Publisher {
    client: Client,
    config: AsyncConnectionConfig,
    connect_timeout: Duration,
    budget: Duration,
    reconnect_min: Duration,
    reconnect_max: Duration,
    state: Mutex<State>,
}

struct State {
    conn: Option<(MultiplexedConnection, u64)>,
    generation: u64,
    /// While down: no new connection attempt before this instant (fail fast instead).
    retry_at: Option<Instant>,
    backoff: Duration,
}

impl Publisher {
    pub(super) fn new(client: Client, opts: &RedisOptions) -> Self {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(opts.connect_timeout)
            .set_response_timeout(opts.command_timeout);
        Self {
            client,
            config,
            connect_timeout: opts.connect_timeout,
            budget: opts.publish_timeout,
            reconnect_min: opts.reconnect_min,
            reconnect_max: opts.reconnect_max,
            state: Mutex::new(State {
                conn: None,
                generation: 0,
                retry_at: None,
                backoff: opts.reconnect_min,
            }),
        }
    }

    /// Runs `pipe` within the publish budget; on any failure the connection is dropped so
    /// that the next call reconnects.
    pub(super) async fn run(
        &self,
        op: &'static str,
        pipe: &redis::Pipeline,
    ) -> Result<(), ChannelError> {
        let mut used = None;
        let result = timeout(self.budget, async {
            let (mut conn, generation) = self.connection().await?;
            used = Some(generation);
            pipe.query_async::<()>(&mut conn)
                .await
                .map_err(ChannelError::Backend)
        })
        .await
        .unwrap_or(Err(ChannelError::Timeout {
            op,
            after: self.budget,
        }));
        if let (Err(_), Some(generation)) = (&result, used) {
            self.invalidate(generation);
        }
        result
    }

    /// The shared connection, connecting if there is none and the backoff allows it.
    async fn connection(&self) -> Result<(MultiplexedConnection, u64), ChannelError> {
        let mut state = self.state.lock().await;
        if let Some((conn, generation)) = &state.conn {
            return Ok((conn.clone(), *generation));
        }
        let now = Instant::now();
        if state.retry_at.is_some_and(|at| now < at) {
            return Err(ChannelError::Unavailable(
                "redis unreachable, reconnect pending".into(),
            ));
        }
        let attempt = timeout(
            self.connect_timeout,
            self.client
                .get_multiplexed_async_connection_with_config(&self.config),
        )
        .await;
        match attempt {
            Ok(Ok(conn)) => {
                state.generation += 1;
                let generation = state.generation;
                state.conn = Some((conn.clone(), generation));
                state.retry_at = None;
                state.backoff = self.reconnect_min;
                tracing::info!(redis.generation = generation, "redis publisher connected");
                Ok((conn, generation))
            }
            Ok(Err(e)) => {
                state.failed(now, self.reconnect_max);
                Err(ChannelError::Unavailable(format!(
                    "redis connect failed: {e}"
                )))
            }
            Err(_) => {
                state.failed(now, self.reconnect_max);
                Err(ChannelError::Timeout {
                    op: "connect",
                    after: self.connect_timeout,
                })
            }
        }
    }

    /// Forgets connection `generation` after a failure. Never waits: if the state is busy,
    /// the next failing call does it.
    fn invalidate(&self, generation: u64) {
        if let Ok(mut state) = self.state.try_lock() {
            if state.conn.as_ref().is_some_and(|(_, g)| *g == generation) {
                state.conn = None;
                // One immediate retry: a restarted Redis is back on the next publish.
                state.retry_at = None;
                tracing::warn!(
                    redis.generation = generation,
                    "redis publisher connection dropped"
                );
            }
        }
    }
}

impl State {
    fn failed(&mut self, now: Instant, max: Duration) {
        self.retry_at = Some(now + self.backoff);
        self.backoff = (self.backoff * 2).min(max);
    }
}
