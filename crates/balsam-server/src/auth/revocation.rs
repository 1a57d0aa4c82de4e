//! Token revocation: each token carries its user's token generation at issue time, and a
//! request is refused when the user's current generation has moved past it (logout,
//! password change) or the user is gone. The current generation is read from the store at
//! most once per `auth.revocation_check_ms` per user and replica, so a revocation reaches
//! every replica within that interval.

use balsam_store::{Store, StoreError};
use balsam_types::UserId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Above this many cached users, stale entries are dropped on the next miss.
const MAX_CACHED: usize = 100_000;

/// The per-replica cache of users' token generations.
pub struct Generations {
    ttl: Duration,
    cache: Mutex<HashMap<UserId, (Option<i64>, Instant)>>,
}

impl Generations {
    pub fn new(ttl: Duration) -> Self {
        Generations {
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a token of `user` issued at `generation` is still valid (the user exists
    /// and has not revoked it).
    pub async fn is_current(
        &self,
        store: &dyn Store,
        user: UserId,
        generation: i64,
    ) -> Result<bool, StoreError> {
        let current = self.current(store, user).await?;
        Ok(current.is_some_and(|c| generation >= c))
    }

    async fn current(&self, store: &dyn Store, user: UserId) -> Result<Option<i64>, StoreError> {
        if let Some(hit) = self.cached(user) {
            return Ok(hit);
        }
        let fresh = store.token_generation(user).await?;
        let mut cache = self.lock();
        if cache.len() >= MAX_CACHED {
            let ttl = self.ttl;
            cache.retain(|_, (_, at)| at.elapsed() < ttl);
        }
        cache.insert(user, (fresh, Instant::now()));
        Ok(fresh)
    }

    fn cached(&self, user: UserId) -> Option<Option<i64>> {
        let cache = self.lock();
        let (generation, at) = cache.get(&user)?;
        (at.elapsed() < self.ttl).then_some(*generation)
    }

    /// Drops the cached value, so a revocation made by this replica applies here at once.
    pub fn forget(&self, user: UserId) {
        self.lock().remove(&user);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, (Option<i64>, Instant)>> {
        // A panic while holding this lock leaves a plain map behind: keep using it.
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
