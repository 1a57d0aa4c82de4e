//! The stories every layer passes, run on each through `contract!`.

use balsam_channels::{Delivery, Subscription, UserId};

use crate::layers::{Kind, Layer};
use crate::support::*;

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
    assert_eq!(next(&mut sub_b).await, Delivery::Event(msg(100)));
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
    assert_eq!(next(&mut sub).await, Delivery::Event(msg(2)));
}

async fn payloads_round_trip_exactly(layer: &Layer) {
    let user = fresh_user();
    let mut sub = layer.channels.subscribe(user).await.unwrap();
    let mut batch = vec![
        event(-7, ""),
        event(0, "ünïcødé ✓ \u{1F680} \"quoted\" \\ \n \u{0}"),
        event(i64::MAX, format!("[{}]", "1,".repeat(1 << 20))), // bigger than one frame
    ];
    // 40 × 50 KB: more than one 1 MiB frame.
    batch.extend((1..=40).map(|i| event(i, format!("{{\"pad\":\"{}\"}}", "x".repeat(50_000)))));
    layer.channels.publish(user, &batch).await.unwrap();
    for expected in batch {
        assert_eq!(next(&mut sub).await, Delivery::Event(expected));
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
                .publish(u, &[event(u, format!("\"for {u}\""))])
                .await
                .unwrap()
        }
    }))
    .await;
    for (sub, &user) in subs.iter_mut().zip(&users) {
        assert_eq!(
            next(sub).await,
            Delivery::Event(event(user, format!("\"for {user}\"")))
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
                    while next(&mut sub).await != Delivery::Event(msg(mine)) {}
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
