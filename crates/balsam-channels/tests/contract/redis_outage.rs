//! Redis only: outages (a throwaway `redis-server` of the test's own dies, stalls, comes back).
//!
//! Repetition note: this file spells out a step another crate's test or client spells out
//! too (starting a server, waiting for a port, a call with its error handling); crates do
//! not share test code.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use balsam_channels::{Delivery, RedisLayer, Subscription, UserId};

use futures::StreamExt;

use crate::layers::{numsub, redis_required, test_options, Kind, Layer};
use crate::support::*;

struct ThrowawayRedis {
    port: u16,
    extra_args: Vec<&'static str>,
    child: Option<Child>,
}

impl ThrowawayRedis {
    fn start() -> Self {
        Self::start_with(&[])
    }

    fn start_with(extra_args: &[&'static str]) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mut server = Self {
            port,
            extra_args: extra_args.to_vec(),
            child: None,
        };
        server.spawn();
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        let port = self.port.to_string();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(&self.extra_args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.answers_ping() {
            assert!(
                Instant::now() < deadline,
                "throwaway redis-server did not start on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn answers_ping(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        let mut buf = [0u8; 7];
        s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        assert!(Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap()
            .success());
    }
}

impl Drop for ThrowawayRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn redis_outage_stories_enabled() -> bool {
    if std::env::var("BALSAM_TEST_REDIS_URL").is_ok_and(|u| !u.is_empty()) {
        return true;
    }
    assert!(
        !redis_required(),
        "BALSAM_TEST_REQUIRE_REDIS=1 but BALSAM_TEST_REDIS_URL is unset"
    );
    eprintln!("skipped: BALSAM_TEST_REDIS_URL is not set");
    false
}

impl Layer {
    fn redis_layer(&self) -> &RedisLayer {
        match &self.kind {
            Kind::Redis { layer, .. } => layer,
            Kind::InProcess(_) => unreachable!("a Redis story on the in-process layer"),
        }
    }
}

async fn publish_is_refused_quickly(layer: &Layer, user: UserId, seq: i64) {
    let budget = test_options().publish_timeout + Duration::from_millis(500);
    let started = Instant::now();
    let result = layer.channels.publish(user, &[msg(seq)]).await;
    assert!(result.is_err(), "publish succeeded with Redis out");
    assert!(
        started.elapsed() < budget,
        "publish took {:?} (budget {budget:?})",
        started.elapsed()
    );
}

async fn publish_until_accepted(layer: &Layer, user: UserId, seq: i64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while let Err(e) = layer.channels.publish(user, &[msg(seq)]).await {
        assert!(
            Instant::now() < deadline,
            "publish still failing after Redis came back: {e}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn both_connected(layers: &[&Layer]) {
    eventually("the subscriber connections are back", async || {
        layers.iter().all(|l| l.redis_layer().is_connected())
    })
    .await;
}

/// Reads until message `seq` arrives. Before it only Gaps may come, and, with `late`,
/// messages whose publish timed out but still reached Redis (ascending). Returns the gaps.
async fn read_through(sub: &mut Subscription, seq: i64, late: bool) -> usize {
    let (mut gaps, mut last_late) = (0, i64::MIN);
    loop {
        match next(sub).await {
            Delivery::Gap => gaps += 1,
            Delivery::Event(m) if m.seq == seq => return gaps,
            Delivery::Event(m) => {
                assert!(
                    late && m.seq < seq && m.seq > last_late,
                    "unexpected {m:?} before {seq}"
                );
                last_late = m.seq;
            }
        }
    }
}

/// Redis dies and comes back on the same port: publish fails fast meanwhile, subscribing is
/// refused, and every subscriber on both replicas gets a `Gap`, then new messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart_fails_fast_then_gaps_then_delivers() {
    if !redis_outage_stories_enabled() {
        return;
    }
    let mut server = ThrowawayRedis::start();
    let a = Layer::redis_at(&server.url()).await;
    let b = Layer::redis_at(&server.url()).await;
    let (u1, u2, u3) = (fresh_user(), fresh_user(), fresh_user());
    let mut a1 = a.channels.subscribe(u1).await.unwrap();
    let mut b1 = b.channels.subscribe(u1).await.unwrap();
    let mut b2 = b.channels.subscribe(u2).await.unwrap();
    let mut b3 = b.channels.subscribe(u3).await.unwrap();
    a.channels.publish(u1, &[msg(1)]).await.unwrap();
    b.channels.publish(u2, &[msg(1)]).await.unwrap();
    b.channels.publish(u3, &[msg(1)]).await.unwrap();
    for sub in [&mut a1, &mut b1, &mut b2, &mut b3] {
        expect_messages(sub, 1..=1).await;
    }

    server.kill();
    for seq in 2..=4 {
        publish_is_refused_quickly(&a, u1, seq).await;
        publish_is_refused_quickly(&b, u2, seq).await;
    }
    // The publishing replica's own subscribers hear of a failed publish at once.
    assert_eq!(next(&mut a1).await, Delivery::Gap);
    assert_eq!(next(&mut b2).await, Delivery::Gap);
    eventually("both replicas notice the outage", async || {
        a.channels.ready().await.is_err() && b.channels.ready().await.is_err()
    })
    .await;
    let started = Instant::now();
    let refused = a.channels.subscribe(fresh_user()).await;
    assert!(
        refused.is_err(),
        "subscribe must not pretend to be live while Redis is down"
    );
    assert!(started.elapsed() < test_options().subscribe_timeout + Duration::from_millis(500));
    assert_eq!(
        a.local_groups(),
        1,
        "a refused subscription leaves no group behind"
    );

    server.spawn();
    // Nobody published to u3 during the outage, but its replica could not have known: the
    // reconnect alone owes it a Gap, before anything else.
    assert_eq!(next(&mut b3).await, Delivery::Gap);
    both_connected(&[&a, &b]).await;
    publish_until_accepted(&a, u1, 5).await;
    publish_until_accepted(&b, u2, 5).await;
    b.channels.publish(u3, &[msg(5)]).await.unwrap();
    for sub in [&mut a1, &mut b1, &mut b2] {
        let gaps = read_through(sub, 5, false).await;
        assert!(
            gaps >= 1,
            "user {}: messages 2..=4 lost without a Gap",
            sub.user()
        );
    }
    expect_messages(&mut b3, 5..=5).await;
    a.channels.ready().await.unwrap();
    b.channels.ready().await.unwrap();
    let channel = a.redis_layer().channel_name(u1);
    assert_eq!(
        numsub(&server.url(), &channel).await,
        2,
        "both replicas resubscribed"
    );
    eventually("gap notices delivered", async || {
        a.redis_layer().pending_gap_notices() == 0 && b.redis_layer().pending_gap_notices() == 0
    })
    .await;
    for sub in [&mut a1, &mut b1, &mut b2, &mut b3] {
        while tokio::time::timeout(Duration::from_millis(150), sub.next()).await
            == Ok(Some(Delivery::Gap))
        {}
        expect_silence(sub).await;
    }
}

/// Redis refuses one publish while every connection stays up (the frame is over the server's
/// `proto-max-bulk-len`): the subscribers on the *other* replica must still be told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_a_failed_publish_is_announced_to_every_replica() {
    if !redis_outage_stories_enabled() {
        return;
    }
    let server = ThrowawayRedis::start_with(&["--proto-max-bulk-len", "1mb"]);
    let a = Layer::redis_at(&server.url()).await;
    let b = Layer::redis_at(&server.url()).await;
    let user = fresh_user();
    let mut on_a = a.channels.subscribe(user).await.unwrap();
    let mut on_b = b.channels.subscribe(user).await.unwrap();
    a.channels.publish(user, &[msg(1)]).await.unwrap();
    expect_messages(&mut on_a, 1..=1).await;
    expect_messages(&mut on_b, 1..=1).await;

    let too_big = event(2, format!("\"{}\"", "x".repeat(3 << 20)));
    assert!(a.channels.publish(user, &[too_big]).await.is_err());
    assert_eq!(
        next(&mut on_a).await,
        Delivery::Gap,
        "the publishing replica at once"
    );
    assert_eq!(
        next(&mut on_b).await,
        Delivery::Gap,
        "the other replica via the gap notice"
    );
    assert!(
        b.redis_layer().is_connected(),
        "B's Gap came from the notice, not a reconnect"
    );
    eventually("gap notice delivered", async || {
        a.redis_layer().pending_gap_notices() == 0
    })
    .await;

    a.channels.publish(user, &[msg(3)]).await.unwrap();
    read_through(&mut on_a, 3, false).await;
    expect_messages(&mut on_b, 3..=3).await;
}

/// Redis stops answering without closing connections (SIGSTOP): publish and readiness must
/// still return within their budgets, and once Redis resumes subscribers catch up via a Gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stall_never_hangs_a_publisher() {
    if !redis_outage_stories_enabled() {
        return;
    }
    let server = ThrowawayRedis::start();
    let layer = Layer::redis_at(&server.url()).await;
    let user = fresh_user();
    let mut sub = layer.channels.subscribe(user).await.unwrap();
    layer.channels.publish(user, &[msg(1)]).await.unwrap();
    expect_messages(&mut sub, 1..=1).await;

    server.signal("-STOP");
    let outcome = async {
        for seq in 2..=4 {
            publish_is_refused_quickly(&layer, user, seq).await;
        }
        assert_eq!(next(&mut sub).await, Delivery::Gap);
        let started = Instant::now();
        assert!(layer.channels.ready().await.is_err());
        assert!(started.elapsed() < test_options().publish_timeout + Duration::from_millis(500));
        eventually("the subscriber connection is declared dead", async || {
            !layer.redis_layer().is_connected()
        })
        .await;
    };
    // Resume Redis whatever happened, so the server can be killed cleanly.
    let result = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(outcome)).await;
    server.signal("-CONT");
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }

    both_connected(&[&layer]).await;
    publish_until_accepted(&layer, user, 5).await;
    read_through(&mut sub, 5, true).await;
}
