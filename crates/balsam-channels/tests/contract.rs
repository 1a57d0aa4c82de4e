//! The channel-layer contract: one set of stories, run on the in-process layer always and on
//! Redis when `BALSAM_TEST_REDIS_URL` is set (`BALSAM_TEST_REQUIRE_REDIS=1` makes a missing or
//! unreachable Redis a failure). Redis-only stories (replicas, outages) follow the shared ones;
//! the outage stories start a throwaway `redis-server` of their own.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use balsam_channels::{
    from_config, ChannelError, ChannelLayer, Delivery, InProcessLayer, Message, RedisLayer,
    RedisOptions, Subscription, UserId,
};
use futures::StreamExt;

const WAIT: Duration = Duration::from_secs(5);
const CAPACITY: usize = 64;

// ---------------------------------------------------------------- helpers

/// A user id no other test (in this or a concurrent test process) uses.
fn fresh_user() -> UserId {
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

fn msg(seq: i64) -> Message {
    Message::new(
        seq,
        format!(r#"{{"action":"update","type":"job","seq":{seq}}}"#),
    )
}

fn msgs(seqs: std::ops::RangeInclusive<i64>) -> Vec<Message> {
    seqs.map(msg).collect()
}

async fn next(sub: &mut Subscription) -> Delivery {
    tokio::time::timeout(WAIT, sub.next())
        .await
        .unwrap_or_else(|_| panic!("no delivery for user {} within {WAIT:?}", sub.user()))
        .expect("subscription stream ended")
}

async fn expect_messages(sub: &mut Subscription, seqs: std::ops::RangeInclusive<i64>) {
    for seq in seqs {
        assert_eq!(
            next(sub).await,
            Delivery::Message(msg(seq)),
            "user {}",
            sub.user()
        );
    }
}

async fn expect_silence(sub: &mut Subscription) {
    let got = tokio::time::timeout(Duration::from_millis(150), sub.next()).await;
    assert!(got.is_err(), "unexpected delivery {got:?}");
}

/// Reads until message `last` arrives and checks that nothing was lost silently: every
/// jump in sequence numbers is preceded by a `Gap`. Returns how many gaps it saw.
async fn read_until_checking_gaps(sub: &mut Subscription, first: i64, last: i64) -> usize {
    let (mut expected, mut gap_pending, mut gaps) = (first, false, 0);
    loop {
        match next(sub).await {
            Delivery::Gap => {
                gap_pending = true;
                gaps += 1;
            }
            Delivery::Message(m) => {
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

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------- the layers under test

struct Layer {
    channels: Arc<dyn ChannelLayer>,
    kind: Kind,
}

enum Kind {
    InProcess(InProcessLayer),
    Redis { layer: RedisLayer, url: String },
}

fn test_options() -> RedisOptions {
    RedisOptions {
        capacity: CAPACITY,
        connect_timeout: Duration::from_millis(500),
        command_timeout: Duration::from_millis(500),
        publish_timeout: Duration::from_secs(1),
        subscribe_timeout: Duration::from_secs(2),
        ping_interval: Duration::from_millis(200),
        reconnect_min: Duration::from_millis(50),
        reconnect_max: Duration::from_millis(500),
        ..RedisOptions::default()
    }
}

fn redis_required() -> bool {
    std::env::var("BALSAM_TEST_REQUIRE_REDIS").is_ok_and(|v| v == "1")
}

impl Layer {
    fn in_process() -> Self {
        let layer = InProcessLayer::with_capacity(CAPACITY);
        Self {
            channels: Arc::new(layer.clone()),
            kind: Kind::InProcess(layer),
        }
    }

    /// The shared test Redis, or `None` (skip) when it is not configured.
    async fn redis() -> Option<Self> {
        let Some(url) = std::env::var("BALSAM_TEST_REDIS_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            assert!(
                !redis_required(),
                "BALSAM_TEST_REQUIRE_REDIS=1 but BALSAM_TEST_REDIS_URL is unset"
            );
            eprintln!("skipped: BALSAM_TEST_REDIS_URL is not set");
            return None;
        };
        let layer = Self::redis_at(&url).await;
        let connected = matches!(&layer.kind, Kind::Redis { layer, .. } if layer.is_connected());
        if !connected {
            assert!(
                !redis_required(),
                "BALSAM_TEST_REQUIRE_REDIS=1 but Redis is unreachable"
            );
            eprintln!("skipped: Redis at BALSAM_TEST_REDIS_URL is unreachable");
            return None;
        }
        Some(layer)
    }

    async fn redis_at(url: &str) -> Self {
        let layer = RedisLayer::connect(url, test_options())
            .await
            .expect("valid Redis URL");
        Self {
            channels: Arc::new(layer.clone()),
            kind: Kind::Redis {
                layer,
                url: url.into(),
            },
        }
    }

    fn local_subscribers(&self, user: UserId) -> usize {
        match &self.kind {
            Kind::InProcess(l) => l.local_subscribers(user),
            Kind::Redis { layer, .. } => layer.local_subscribers(user),
        }
    }

    fn local_groups(&self) -> usize {
        match &self.kind {
            Kind::InProcess(l) => l.local_groups(),
            Kind::Redis { layer, .. } => layer.local_groups(),
        }
    }

    /// Subscriber connections Redis counts on `user`'s channel (`None` in-process).
    async fn redis_subscribers(&self, user: UserId) -> Option<i64> {
        let Kind::Redis { layer, url } = &self.kind else {
            return None;
        };
        Some(numsub(url, &layer.channel_name(user)).await)
    }
}

async fn redis_conn(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn numsub(url: &str, channel: &str) -> i64 {
    let (_, n): (String, i64) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(channel)
        .query_async(&mut redis_conn(url).await)
        .await
        .unwrap();
    n
}

macro_rules! contract {
    ($($story:ident),* $(,)?) => {
        mod in_process {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    super::$story(&super::Layer::in_process()).await;
                }
            )*
        }
        mod on_redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    if let Some(layer) = super::Layer::redis().await {
                        super::$story(&layer).await;
                    }
                }
            )*
        }
    };
}

contract!(
    delivery_in_order,
    per_user_isolation,
    two_subscribers_both_receive,
    unsubscribe_on_drop,
    slow_subscriber_gets_a_gap_not_silent_loss,
    publishing_without_subscribers_is_fine,
    yields_only_what_is_published_after_subscribe,
    payloads_round_trip_exactly,
    many_users_at_once,
    churn_never_unsubscribes_a_live_group,
    ready_and_name,
);

// ---------------------------------------------------------------- shared stories

async fn delivery_in_order(layer: &Layer) {
    let user = fresh_user();
    let mut sub = layer.channels.subscribe(user).await.unwrap();
    layer.channels.publish(user, &msgs(1..=5)).await.unwrap();
    layer.channels.publish(user, &msgs(6..=10)).await.unwrap();
    layer.channels.publish(user, &[msg(11)]).await.unwrap();
    expect_messages(&mut sub, 1..=11).await;
    expect_silence(&mut sub).await;
}

async fn per_user_isolation(layer: &Layer) {
    let (a, b) = (fresh_user(), fresh_user());
    let mut sub_a = layer.channels.subscribe(a).await.unwrap();
    let mut sub_b = layer.channels.subscribe(b).await.unwrap();
    layer.channels.publish(a, &msgs(1..=3)).await.unwrap();
    layer.channels.publish(b, &[msg(100)]).await.unwrap();
    // B's first delivery is its own message: none of A's came before it.
    assert_eq!(next(&mut sub_b).await, Delivery::Message(msg(100)));
    expect_messages(&mut sub_a, 1..=3).await;
    expect_silence(&mut sub_a).await;
    expect_silence(&mut sub_b).await;
}

async fn two_subscribers_both_receive(layer: &Layer) {
    let user = fresh_user();
    let mut first = layer.channels.subscribe(user).await.unwrap();
    let mut second = layer.channels.subscribe(user).await.unwrap();
    assert_eq!(layer.local_subscribers(user), 2);
    layer.channels.publish(user, &msgs(1..=3)).await.unwrap();
    expect_messages(&mut first, 1..=3).await;
    expect_messages(&mut second, 1..=3).await;
}

async fn unsubscribe_on_drop(layer: &Layer) {
    let user = fresh_user();
    let first = layer.channels.subscribe(user).await.unwrap();
    let mut second = layer.channels.subscribe(user).await.unwrap();
    if let Some(n) = layer.redis_subscribers(user).await {
        assert_eq!(
            n, 1,
            "one subscriber connection per process, however many local subscribers"
        );
    }
    drop(first);
    assert_eq!(layer.local_subscribers(user), 1);
    layer.channels.publish(user, &[msg(1)]).await.unwrap();
    expect_messages(&mut second, 1..=1).await;

    drop(second);
    assert_eq!(layer.local_subscribers(user), 0);
    assert_eq!(layer.local_groups(), 0);
    eventually("Redis unsubscribed the channel", async || {
        layer.redis_subscribers(user).await.unwrap_or(0) == 0
    })
    .await;
    layer.channels.publish(user, &[msg(2)]).await.unwrap();

    // Subscribing again after the group went away works.
    let mut again = layer.channels.subscribe(user).await.unwrap();
    if let Some(n) = layer.redis_subscribers(user).await {
        assert_eq!(n, 1);
    }
    layer.channels.publish(user, &[msg(3)]).await.unwrap();
    expect_messages(&mut again, 3..=3).await;
}

async fn slow_subscriber_gets_a_gap_not_silent_loss(layer: &Layer) {
    let user = fresh_user();
    let mut slow = layer.channels.subscribe(user).await.unwrap();
    let fast = layer.channels.subscribe(user).await.unwrap();
    let reader = tokio::spawn(async move {
        let mut fast = fast;
        read_until_checking_gaps(&mut fast, 1, 500).await
    });
    let total = 500;
    for batch in (1..=total).step_by(50) {
        layer
            .channels
            .publish(user, &msgs(batch..=batch + 49))
            .await
            .unwrap();
    }
    reader.await.unwrap();
    // Everything has been delivered to the group now; the slow one read none of it.
    let gaps = read_until_checking_gaps(&mut slow, 1, total).await;
    assert!(
        gaps >= 1,
        "{total} messages into a {CAPACITY}-slot subscriber without a Gap"
    );
    expect_silence(&mut slow).await;
}

async fn publishing_without_subscribers_is_fine(layer: &Layer) {
    let user = fresh_user();
    layer.channels.publish(user, &msgs(1..=3)).await.unwrap();
    layer.channels.publish(user, &[]).await.unwrap();
    assert_eq!(layer.local_groups(), 0, "publishing creates no group");
    let mut sub = layer.channels.subscribe(user).await.unwrap();
    layer.channels.publish(user, &[]).await.unwrap();
    expect_silence(&mut sub).await;
}

async fn yields_only_what_is_published_after_subscribe(layer: &Layer) {
    let user = fresh_user();
    layer.channels.publish(user, &[msg(1)]).await.unwrap();
    let mut sub = layer.channels.subscribe(user).await.unwrap();
    layer.channels.publish(user, &[msg(2)]).await.unwrap();
    assert_eq!(next(&mut sub).await, Delivery::Message(msg(2)));
}

async fn payloads_round_trip_exactly(layer: &Layer) {
    let user = fresh_user();
    let mut sub = layer.channels.subscribe(user).await.unwrap();
    let mut batch = vec![
        Message::new(-7, ""),
        Message::new(0, "ünïcødé ✓ \u{1F680} \"quoted\" \\ \n \u{0}"),
        Message::new(i64::MAX, format!("[{}]", "1,".repeat(1 << 20))), // bigger than one frame
    ];
    // 40 × 50 KB: more than one 1 MiB frame.
    batch.extend(
        (1..=40).map(|i| Message::new(i, format!("{{\"pad\":\"{}\"}}", "x".repeat(50_000)))),
    );
    layer.channels.publish(user, &batch).await.unwrap();
    for expected in batch {
        assert_eq!(next(&mut sub).await, Delivery::Message(expected));
    }
    expect_silence(&mut sub).await;
}

async fn many_users_at_once(layer: &Layer) {
    let users: Vec<UserId> = (0..50).map(|_| fresh_user()).collect();
    let subs = futures::future::join_all(users.iter().map(|&u| layer.channels.subscribe(u))).await;
    let mut subs: Vec<Subscription> = subs.into_iter().map(Result::unwrap).collect();
    assert_eq!(layer.local_groups(), users.len());
    futures::future::join_all(users.iter().map(|&u| {
        let channels = layer.channels.clone();
        async move {
            channels
                .publish(u, &[Message::new(u, format!("\"for {u}\""))])
                .await
                .unwrap()
        }
    }))
    .await;
    for (sub, &user) in subs.iter_mut().zip(&users) {
        assert_eq!(
            next(sub).await,
            Delivery::Message(Message::new(user, format!("\"for {user}\"")))
        );
    }
    futures::future::join_all(subs.iter_mut().map(expect_silence)).await;
    drop(subs);
    assert_eq!(layer.local_groups(), 0);
}

/// Subscribers coming and going while one stays: the staying one never loses its channel.
async fn churn_never_unsubscribes_a_live_group(layer: &Layer) {
    let user = fresh_user();
    let mut steady = layer.channels.subscribe(user).await.unwrap();
    let churners: Vec<_> = (0..6)
        .map(|_| {
            let channels = layer.channels.clone();
            tokio::spawn(async move {
                for _ in 0..25 {
                    drop(channels.subscribe(user).await.unwrap());
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for seq in 1..=30 {
        layer.channels.publish(user, &[msg(seq)]).await.unwrap();
        tokio::task::yield_now().await;
    }
    for churner in churners {
        churner.await.unwrap();
    }
    expect_messages(&mut steady, 1..=30).await;
    drop(steady);

    // Groups now vanish and reappear under the churners' feet; every subscription that
    // `subscribe` returned must be live: each churner hears its own message.
    let user2 = fresh_user();
    let churners: Vec<_> = (0..6i64)
        .map(|task| {
            let channels = layer.channels.clone();
            tokio::spawn(async move {
                for round in 0..15i64 {
                    let mut sub = channels.subscribe(user2).await.unwrap();
                    let mine = task * 1000 + round;
                    channels.publish(user2, &[msg(mine)]).await.unwrap();
                    while next(&mut sub).await != Delivery::Message(msg(mine)) {}
                }
            })
        })
        .collect();
    for churner in churners {
        churner.await.unwrap();
    }
    assert_eq!(layer.local_subscribers(user2), 0);
}

async fn ready_and_name(layer: &Layer) {
    layer.channels.ready().await.unwrap();
    let expected = match layer.kind {
        Kind::InProcess(_) => "in-process",
        Kind::Redis { .. } => "redis",
    };
    assert_eq!(layer.channels.name(), expected);
}

// ---------------------------------------------------------------- configuration

#[tokio::test]
async fn from_config_without_redis_is_in_process() {
    let layer = from_config(None).await.unwrap();
    assert_eq!(layer.name(), "in-process");
    layer.ready().await.unwrap();
}

#[tokio::test]
async fn a_bad_redis_url_is_a_config_error_that_hides_the_password() {
    for url in [
        "not a url",
        "http://:hunter2@example.invalid/",
        "redis://:hunter2@[::1/",
    ] {
        let err = from_config(Some(url))
            .await
            .err()
            .expect("bad URL rejected");
        assert!(matches!(err, ChannelError::Config(_)), "{url}: {err:?}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}

// ---------------------------------------------------------------- Redis only

/// Two layer instances on one Redis stand for two server replicas.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_two_replicas_see_each_others_messages() {
    let Some(a) = Layer::redis().await else {
        return;
    };
    let Kind::Redis { url, .. } = &a.kind else {
        unreachable!()
    };
    let b = Layer::redis_at(url).await;
    let user = fresh_user();
    let mut on_a = a.channels.subscribe(user).await.unwrap();
    let mut on_b = b.channels.subscribe(user).await.unwrap();
    let mut on_b2 = b.channels.subscribe(user).await.unwrap();
    assert_eq!(
        a.redis_subscribers(user).await,
        Some(2),
        "one subscriber connection per replica"
    );

    a.channels.publish(user, &msgs(1..=3)).await.unwrap();
    b.channels.publish(user, &msgs(4..=6)).await.unwrap();
    for sub in [&mut on_a, &mut on_b, &mut on_b2] {
        expect_messages(sub, 1..=6).await;
    }
    // A replica with no local subscriber still reaches the other one.
    drop(on_a);
    eventually("replica A unsubscribed", async || {
        a.redis_subscribers(user).await == Some(1)
    })
    .await;
    a.channels.publish(user, &[msg(7)]).await.unwrap();
    expect_messages(&mut on_b, 7..=7).await;
    expect_messages(&mut on_b2, 7..=7).await;
}

/// Something that is not our frame format on a user channel: the subscriber must hear of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_an_undecodable_frame_is_a_gap() {
    let Some(layer) = Layer::redis().await else {
        return;
    };
    let Kind::Redis {
        layer: redis_layer,
        url,
    } = &layer.kind
    else {
        unreachable!()
    };
    let user = fresh_user();
    let mut sub = layer.channels.subscribe(user).await.unwrap();
    let receivers: i64 = redis::cmd("PUBLISH")
        .arg(redis_layer.channel_name(user))
        .arg(r#"{"seq":1,"payload":"json is not our frame"}"#)
        .query_async(&mut redis_conn(url).await)
        .await
        .unwrap();
    assert_eq!(receivers, 1);
    assert_eq!(next(&mut sub).await, Delivery::Gap);
    layer.channels.publish(user, &[msg(2)]).await.unwrap();
    expect_messages(&mut sub, 2..=2).await;
}

/// A `redis-server` of the test's own, on a free port; killed when dropped.
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
            Delivery::Message(m) if m.seq == seq => return gaps,
            Delivery::Message(m) => {
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

    let too_big = Message::new(2, format!("\"{}\"", "x".repeat(3 << 20)));
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
