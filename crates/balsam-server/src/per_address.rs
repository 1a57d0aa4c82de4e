//! Counting what each client address holds open (connections, websockets), to refuse one
//! more past a configured maximum.
//!
//! Repetition note: like `auth/throttle.rs`, a map behind
//! a mutex that ignores poisoning; the constructor and `lock` look alike on purpose.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Open things per address, at most `max` each (0: unlimited).
pub struct PerAddress {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One open thing; dropping it frees its place.
pub struct Held {
    counter: Arc<PerAddress>,
    address: IpAddr,
}

impl PerAddress {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(PerAddress {
            max,
            open: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A place for one more of `address`'s, or `None` when it holds `max` already.
    pub fn try_hold(self: &Arc<Self>, address: IpAddr) -> Option<Held> {
        let mut open = self.lock();
        let count = open.entry(address).or_insert(0);
        if self.max != 0 && *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Held {
            counter: self.clone(),
            address,
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut open = self.counter.lock();
        if let Some(count) = open.get_mut(&self.address) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_counted_per_address_and_freed_on_drop() {
        let limit = PerAddress::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = limit.try_hold(a).unwrap();
        let _second = limit.try_hold(a).unwrap();
        assert!(limit.try_hold(a).is_none());
        assert!(limit.try_hold(b).is_some());
        drop(first);
        assert!(limit.try_hold(a).is_some());
        assert!(PerAddress::new(0).try_hold(a).is_some());
    }
}
