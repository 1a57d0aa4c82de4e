//! Redis only: replicas on one Redis, and frames that are not ours.

use balsam_channels::Delivery;

use crate::layers::{redis_conn, Kind, Layer};
use crate::support::*;

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
