//! Login rate limiting, per account and per client address: a number of wrong passwords
//! is free, each further one doubles a wait during which logins are answered 429 with
//! `Retry-After`, up to a maximum; failures are forgotten some time after the last one.
//! State is per replica (a client spreading guesses over N replicas gets N times the
//! allowance, still bounded).
//!
//! Repetition note: like `per_address.rs`, a map behind
//! a mutex that ignores poisoning; the constructor and `lock` look alike on purpose.

use crate::config::AuthConfig;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Above this many tracked accounts or addresses, forgotten ones are dropped first, then
/// those not waiting.
const MAX_TRACKED: usize = 100_000;

/// Usernames are tracked by their first this many characters.
const MAX_KEY_CHARS: usize = 128;

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

struct Limiter<K> {
    free: u32,
    max_wait: Duration,
    forget_after: Duration,
    entries: Mutex<HashMap<K, Failures>>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    fn new(free: u32, max_wait: Duration, forget_after: Duration) -> Self {
        Limiter {
            free,
            max_wait,
            forget_after,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Failures>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How long `key` must still wait, if at all.
    fn wait(&self, key: &K, now: Instant) -> Option<Duration> {
        let entries = self.lock();
        let until = entries.get(key)?.blocked_until?;
        until.checked_duration_since(now).filter(|d| !d.is_zero())
    }

    fn failed(&self, key: &K, now: Instant) {
        let mut entries = self.lock();
        if entries.len() >= MAX_TRACKED && !entries.contains_key(key) {
            let forget_after = self.forget_after;
            entries.retain(|_, f| now.duration_since(f.last) < forget_after);
            if entries.len() >= MAX_TRACKED {
                entries.retain(|_, f| f.blocked_until.is_some_and(|u| u > now));
            }
        }
        let entry = entries.entry(key.clone()).or_insert(Failures {
            count: 0,
            last: now,
            blocked_until: None,
        });
        if now.duration_since(entry.last) >= self.forget_after {
            entry.count = 0;
            entry.blocked_until = None;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        if entry.count > self.free {
            let doublings = (entry.count - self.free - 1).min(30);
            let wait = Duration::from_secs(1u64 << doublings).min(self.max_wait);
            entry.blocked_until = Some(now + wait);
        }
    }

    fn clear(&self, key: &K) {
        self.lock().remove(key);
    }
}

/// The login limiter of one replica.
pub struct LoginThrottle {
    accounts: Limiter<String>,
    addresses: Limiter<IpAddr>,
}

impl LoginThrottle {
    pub fn new(config: &AuthConfig) -> Self {
        let max_wait = Duration::from_secs(config.login_backoff_max_secs.max(1));
        let forget = Duration::from_secs(config.login_forget_after_secs.max(1));
        LoginThrottle {
            accounts: Limiter::new(config.login_account_free_failures, max_wait, forget),
            addresses: Limiter::new(config.login_address_free_failures, max_wait, forget),
        }
    }

    fn key(username: &str) -> String {
        username.chars().take(MAX_KEY_CHARS).collect()
    }

    /// `Err(seconds)` when the account or the address must wait that long (rounded up).
    pub fn check(&self, username: &str, address: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let wait = [
            self.accounts.wait(&Self::key(username), now),
            self.addresses.wait(&address, now),
        ]
        .into_iter()
        .flatten()
        .max();
        match wait {
            Some(d) => Err(d.as_secs() + u64::from(d.subsec_nanos() > 0)),
            None => Ok(()),
        }
    }

    /// Records a wrong password (or an unknown user).
    pub fn failed(&self, username: &str, address: IpAddr) {
        let now = Instant::now();
        self.accounts.failed(&Self::key(username), now);
        self.addresses.failed(&address, now);
    }

    /// A successful login clears the account's failures (not the address's: one valid
    /// account must not reset a guessing client's allowance).
    pub fn succeeded(&self, username: &str) {
        self.accounts.clear(&Self::key(username));
    }
}

/// Registrations per client address and hour (a fixed window per address), to stop one
/// client from creating accounts in bulk.
pub struct RegistrationThrottle {
    per_hour: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

const HOUR: Duration = Duration::from_secs(3600);

impl RegistrationThrottle {
    /// `per_hour` 0: unlimited.
    pub fn new(per_hour: u32) -> Self {
        RegistrationThrottle {
            per_hour,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one registration of `address`; `Err(seconds)` when its window is full.
    pub fn admit(&self, address: IpAddr) -> Result<(), u64> {
        if self.per_hour == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() >= MAX_TRACKED && !windows.contains_key(&address) {
            windows.retain(|_, (start, _)| now.duration_since(*start) < HOUR);
        }
        let (start, count) = windows.entry(address).or_insert((now, 0));
        if now.duration_since(*start) >= HOUR {
            *start = now;
            *count = 0;
        }
        if *count >= self.per_hour {
            let left = HOUR.saturating_sub(now.duration_since(*start));
            return Err(left.as_secs().max(1));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrations_fill_an_hourly_window_per_address() {
        let throttle = RegistrationThrottle::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        assert!(throttle.admit(a).is_ok());
        assert!(throttle.admit(a).is_ok());
        assert!(throttle.admit(a).unwrap_err() > 3500);
        assert!(throttle.admit("10.0.0.2".parse().unwrap()).is_ok());
        assert!(RegistrationThrottle::new(0).admit(a).is_ok());
    }

    #[test]
    fn free_failures_then_doubling_waits_up_to_the_maximum() {
        let limiter: Limiter<u8> = Limiter::new(2, Duration::from_secs(4), Duration::from_secs(60));
        let t = Instant::now();
        limiter.failed(&1, t);
        limiter.failed(&1, t);
        assert_eq!(limiter.wait(&1, t), None);
        limiter.failed(&1, t);
        assert_eq!(limiter.wait(&1, t), Some(Duration::from_secs(1)));
        limiter.failed(&1, t);
        assert_eq!(limiter.wait(&1, t), Some(Duration::from_secs(2)));
        for _ in 0..10 {
            limiter.failed(&1, t);
        }
        assert_eq!(limiter.wait(&1, t), Some(Duration::from_secs(4)));
        assert_eq!(limiter.wait(&2, t), None);
        // Forgotten after a quiet minute.
        let later = t + Duration::from_secs(61);
        limiter.failed(&1, later);
        assert_eq!(limiter.wait(&1, later), None);
    }
}
