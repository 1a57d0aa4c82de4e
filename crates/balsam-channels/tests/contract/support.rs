//! Helpers: fresh users, test entries, reading a subscription with a deadline.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use balsam_channels::{Delivery, LoggedEvent, Subscription, UserId};
use futures::StreamExt;

pub const WAIT: Duration = Duration::from_secs(5);
pub const CAPACITY: usize = 64;

/// A user id no other test (in this or a concurrent test process) uses.
pub fn fresh_user() -> UserId {
    static BASE: OnceLock<i64> = OnceLock::new();
    static NEXT: AtomicI64 = AtomicI64::new(0);
    let base = *BASE.get_or_init(|| {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_micros();
        ((micros % (1 << 40)) as i64) << 16
    });
    base + NEXT.fetch_add(1, Ordering::Relaxed)
}

pub fn msg(seq: i64) -> LoggedEvent {
    event(
        seq,
        format!(r#"{{"action":"update","type":"job","seq":{seq}}}"#),
    )
}

pub fn msgs(seqs: std::ops::RangeInclusive<i64>) -> Vec<LoggedEvent> {
    seqs.map(msg).collect()
}

pub async fn next(sub: &mut Subscription) -> Delivery {
    tokio::time::timeout(WAIT, sub.next())
        .await
        .unwrap_or_else(|_| panic!("no delivery for user {} within {WAIT:?}", sub.user()))
        .expect("subscription stream ended")
}

pub async fn expect_messages(sub: &mut Subscription, seqs: std::ops::RangeInclusive<i64>) {
    for seq in seqs {
        assert_eq!(
            next(sub).await,
            Delivery::Event(msg(seq)),
            "user {}",
            sub.user()
        );
    }
}

pub async fn expect_silence(sub: &mut Subscription) {
    let got = tokio::time::timeout(Duration::from_millis(150), sub.next()).await;
    assert!(got.is_err(), "unexpected delivery {got:?}");
}

/// Reads until message `last` arrives and checks that nothing was lost silently: every
/// jump in sequence numbers is preceded by a `Gap`. Returns how many gaps it saw.
pub async fn read_until_checking_gaps(sub: &mut Subscription, first: i64, last: i64) -> usize {
    let (mut expected, mut gap_pending, mut gaps) = (first, false, 0);
    loop {
        match next(sub).await {
            Delivery::Gap => {
                gap_pending = true;
                gaps += 1;
            }
            Delivery::Event(m) => {
                assert!(
                    m.seq == expected || (gap_pending && m.seq > expected),
                    "seq {} after {} with no Gap: silent loss",
                    m.seq,
                    expected - 1
                );
                assert_eq!(m, msg(m.seq));
                gap_pending = false;
                expected = m.seq + 1;
                if m.seq == last {
                    return gaps;
                }
            }
        }
    }
}

pub async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An entry from a sequence number and a JSON text.
pub fn event(seq: i64, payload: impl Into<std::sync::Arc<str>>) -> LoggedEvent {
    LoggedEvent {
        seq,
        payload: payload.into(),
    }
}
