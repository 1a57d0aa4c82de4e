//! Repetition note: each story sets up and checks its own world, spelled out, so a failing
//! story reads on its own; shared fixtures live in `support.rs` and `jobs.rs`.

use crate::sites::site;
use crate::support::user;
use balsam_store::{Store, StoreError};
use balsam_types::{AppCreate, AppQuery, AppUpdate, Page};
use serde_json::json;

fn app(site_id: i64, name: &str) -> AppCreate {
    AppCreate::from_json(&json!({
        "site_id": site_id, "name": name, "serialized_class": "gASV", "source_code": "class X: pass",
        "parameters": {"n": {"required": false, "default": 3}},
        "transfers": {"inp": {"required": true, "direction": "in", "local_path": "in.dat"}}
    }))
    .unwrap()
}

pub async fn apps_round_trip_and_filter(store: &dyn Store) {
    let owner = user(store).await;
    let theta = store
        .create_site(owner, &site("theta", "/projects/theta"))
        .await
        .unwrap();
    let polaris = store
        .create_site(owner, &site("polaris", "/eagle/polaris"))
        .await
        .unwrap();
    let a = store
        .create_app(owner, &app(theta.id, "Hello"))
        .await
        .unwrap();
    let b = store
        .create_app(owner, &app(theta.id, "Sim"))
        .await
        .unwrap();
    let c = store
        .create_app(owner, &app(polaris.id, "Hello"))
        .await
        .unwrap();
    assert_eq!(
        a.parameters["n"],
        json!({"required": false, "default": "3", "help": ""})
    );
    assert_eq!(store.get_app(owner, a.id).await.unwrap(), a);

    let ids = |q: AppQuery| async move {
        let page = store.list_apps(owner, &q, Page::default()).await.unwrap();
        (
            page.count,
            page.results.into_iter().map(|a| a.id).collect::<Vec<_>>(),
        )
    };
    assert_eq!(ids(AppQuery::default()).await, (3, vec![a.id, b.id, c.id]));
    assert_eq!(
        ids(AppQuery {
            site_ids: vec![theta.id],
            ..Default::default()
        })
        .await,
        (2, vec![a.id, b.id])
    );
    assert_eq!(
        ids(AppQuery {
            name: Some("Hello".into()),
            ..Default::default()
        })
        .await,
        (2, vec![a.id, c.id])
    );
    assert_eq!(
        ids(AppQuery {
            site_name: Some("polaris".into()),
            ..Default::default()
        })
        .await,
        (1, vec![c.id])
    );
    assert_eq!(
        ids(AppQuery {
            site_path: Some("projects".into()),
            ..Default::default()
        })
        .await,
        (2, vec![a.id, b.id])
    );
    assert_eq!(
        ids(AppQuery {
            ids: vec![c.id, b.id],
            name: Some("Sim".into()),
            ..Default::default()
        })
        .await,
        (1, vec![b.id])
    );
}

pub async fn apps_need_an_owned_site_and_a_unique_name(store: &dyn Store) {
    let owner = user(store).await;
    let other = user(store).await;
    let mine = store.create_site(owner, &site("s", "/s")).await.unwrap();
    let theirs = store.create_site(other, &site("t", "/t")).await.unwrap();
    assert!(matches!(
        store.create_app(owner, &app(theirs.id, "X")).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.create_app(owner, &app(999_999, "X")).await,
        Err(StoreError::NotFound)
    ));
    store.create_app(owner, &app(mine.id, "X")).await.unwrap();
    match store.create_app(owner, &app(mine.id, "X")).await {
        Err(StoreError::Conflict { constraint }) => assert_eq!(constraint, "apps_site_name_key"),
        other => panic!("expected conflict, got {other:?}"),
    }
    let listed = store
        .list_apps(owner, &AppQuery::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(listed.count, 1);
}

pub async fn apps_move_between_owned_sites_only(store: &dyn Store) {
    let owner = user(store).await;
    let other = user(store).await;
    let s1 = store.create_site(owner, &site("s1", "/1")).await.unwrap();
    let s2 = store.create_site(owner, &site("s2", "/2")).await.unwrap();
    let foreign = store.create_site(other, &site("f", "/f")).await.unwrap();
    let a = store.create_app(owner, &app(s1.id, "Mover")).await.unwrap();

    let to_foreign = AppUpdate {
        site_id: Some(foreign.id),
        ..Default::default()
    };
    assert!(matches!(
        store.update_app(owner, a.id, &to_foreign).await,
        Err(StoreError::NotFound)
    ));
    let update = AppUpdate::from_json(&json!({"site_id": s2.id, "description": "moved"})).unwrap();
    let moved = store.update_app(owner, a.id, &update).await.unwrap();
    assert_eq!(
        (moved.site_id, moved.description.as_str()),
        (s2.id, "moved")
    );
    assert_eq!(moved.parameters, a.parameters);
    assert_eq!(store.get_app(owner, a.id).await.unwrap(), moved);

    // A rename onto an existing (site, name) conflicts and writes nothing.
    store.create_app(owner, &app(s2.id, "Taken")).await.unwrap();
    let rename = AppUpdate {
        name: Some("Taken".into()),
        ..Default::default()
    };
    assert!(matches!(
        store.update_app(owner, a.id, &rename).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(store.get_app(owner, a.id).await.unwrap().name, "Mover");
}

pub async fn apps_are_invisible_to_other_users(store: &dyn Store) {
    let owner = user(store).await;
    let intruder = user(store).await;
    let s = store.create_site(owner, &site("s", "/s")).await.unwrap();
    let a = store
        .create_app(owner, &app(s.id, "Private"))
        .await
        .unwrap();
    assert!(matches!(
        store.get_app(intruder, a.id).await,
        Err(StoreError::NotFound)
    ));
    let update = AppUpdate {
        description: Some("x".into()),
        ..Default::default()
    };
    assert!(matches!(
        store.update_app(intruder, a.id, &update).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_app(intruder, a.id).await,
        Err(StoreError::NotFound)
    ));
    let listed = store
        .list_apps(intruder, &AppQuery::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(listed.count, 0);
    store.delete_app(owner, a.id).await.unwrap();
    assert!(matches!(
        store.get_app(owner, a.id).await,
        Err(StoreError::NotFound)
    ));
}
