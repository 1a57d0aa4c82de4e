//! Repetition note: each story sets up and checks its own world, spelled out, so a failing
//! story reads on its own; shared fixtures live in `support.rs` and `jobs.rs`.

use crate::support::user;
use balsam_store::{Store, StoreError};
use balsam_types::{AppCreate, Page, SiteCreate, SiteQuery, SiteUpdate};
use serde_json::json;

pub fn site(name: &str, path: &str) -> SiteCreate {
    SiteCreate::from_json(&json!({"name": name, "path": path})).unwrap()
}

pub async fn sites_round_trip_every_field(store: &dyn Store) {
    let owner = user(store).await;
    let input = SiteCreate::from_json(&json!({
        "name": "theta", "path": "/projects/foo",
        "globus_endpoint_id": "6C54CADE-BDE5-45C1-BDEA-F4BD71DBA2CC",
        "backfill_windows": {"default": [{"num_nodes": 31, "wall_time_min": 45}]},
        "queued_jobs": {"123": {"scheduler_id": 123, "state": "queued", "queue": "default",
            "num_nodes": 2, "wall_time_min": 30, "project": "p", "time_remaining_min": 30,
            "queued_time_min": 3}},
        "optional_batch_job_params": {"shout": false},
        "allowed_projects": ["p1", "p2"],
        "allowed_queues": {"debug": {"max_nodes": 8, "max_walltime": 60, "max_queued_jobs": 2}},
        "transfer_locations": {"laptop": "globus://abc-123"}
    }))
    .unwrap();
    let created = store.create_site(owner, &input).await.unwrap();
    assert_eq!(created.name, "theta");
    assert_eq!(
        created.globus_endpoint_id.unwrap().to_string(),
        "6c54cade-bde5-45c1-bdea-f4bd71dba2cc"
    );
    assert_eq!(created.optional_batch_job_params["shout"], json!("False"));
    assert_eq!(created.backfill_windows, input.backfill_windows);
    assert_eq!(created.queued_jobs, input.queued_jobs);
    assert_eq!(created.allowed_projects, vec!["p1", "p2"]);
    assert_eq!(created.allowed_queues, input.allowed_queues);
    assert_eq!(created.transfer_locations, input.transfer_locations);
    assert_eq!(created.last_refresh, created.creation_date);
    // What a mutation returns equals what a later read returns, to the microsecond.
    assert_eq!(store.get_site(owner, created.id).await.unwrap(), created);
}

pub async fn site_filters_and_pagination(store: &dyn Store) {
    let owner = user(store).await;
    let a = store
        .create_site(owner, &site("a", "/home/Alpha"))
        .await
        .unwrap();
    let b = store
        .create_site(owner, &site("b", "/home/beta"))
        .await
        .unwrap();
    let c = store
        .create_site(owner, &site("c", "/scratch/alpha"))
        .await
        .unwrap();
    let all = Page::default();
    let ids = |p: balsam_types::Paginated<balsam_types::Site>| {
        (
            p.count,
            p.results.into_iter().map(|s| s.id).collect::<Vec<_>>(),
        )
    };

    let q = SiteQuery {
        path: Some("alpha".into()),
        ..Default::default()
    };
    assert_eq!(
        ids(store.list_sites(owner, &q, all).await.unwrap()),
        (1, vec![c.id])
    );
    let q = SiteQuery {
        name: Some("b".into()),
        ..Default::default()
    };
    assert_eq!(
        ids(store.list_sites(owner, &q, all).await.unwrap()),
        (1, vec![b.id])
    );
    let q = SiteQuery {
        ids: vec![c.id, a.id],
        ..Default::default()
    };
    assert_eq!(
        ids(store.list_sites(owner, &q, all).await.unwrap()),
        (2, vec![a.id, c.id])
    );
    let q = SiteQuery {
        last_refresh_after: Some(b.last_refresh),
        ..Default::default()
    };
    assert_eq!(
        ids(store.list_sites(owner, &q, all).await.unwrap()),
        (2, vec![b.id, c.id])
    );

    let everything = SiteQuery::default();
    let page = Page {
        limit: 1,
        offset: 1,
    };
    assert_eq!(
        ids(store.list_sites(owner, &everything, page).await.unwrap()),
        (3, vec![b.id])
    );
    let empty = Page {
        limit: 0,
        offset: 0,
    };
    assert_eq!(
        ids(store.list_sites(owner, &everything, empty).await.unwrap()),
        (3, vec![])
    );
    let past_end = Page {
        limit: 10,
        offset: 5,
    };
    assert_eq!(
        ids(store
            .list_sites(owner, &everything, past_end)
            .await
            .unwrap()),
        (3, vec![])
    );
}

pub async fn site_updates_write_present_fields_and_refresh(store: &dyn Store) {
    let owner = user(store).await;
    let created = store.create_site(owner, &site("s", "/s")).await.unwrap();
    let empty = store
        .update_site(owner, created.id, &SiteUpdate::default())
        .await
        .unwrap();
    assert!(empty.last_refresh >= created.last_refresh);
    assert_eq!(empty.creation_date, created.creation_date);
    assert_eq!(empty.name, "s");

    let update = SiteUpdate::from_json(&json!({
        "path": "/new//path/", "globus_endpoint_id": null,
        "backfill_windows": {"q": [{"num_nodes": 1, "wall_time_min": 5}]},
        "allowed_projects": ["x"]
    }))
    .unwrap();
    let updated = store.update_site(owner, created.id, &update).await.unwrap();
    assert_eq!(updated.path, "/new/path");
    assert_eq!(updated.name, "s");
    assert_eq!(updated.allowed_projects, vec!["x"]);
    assert_eq!(
        updated.backfill_windows["q"],
        json!([{"num_nodes": 1, "wall_time_min": 5}])
    );
    assert_eq!(store.get_site(owner, created.id).await.unwrap(), updated);
}

pub async fn site_names_are_unique_per_owner(store: &dyn Store) {
    let owner = user(store).await;
    let other = user(store).await;
    store.create_site(owner, &site("dup", "/a")).await.unwrap();
    let second = store
        .create_site(owner, &site("second", "/b"))
        .await
        .unwrap();
    match store.create_site(owner, &site("dup", "/c")).await {
        Err(StoreError::Conflict { constraint }) => assert_eq!(constraint, "sites_owner_name_key"),
        other => panic!("expected conflict, got {other:?}"),
    }
    // Renaming onto an existing name is a conflict too, and changes nothing.
    let rename = SiteUpdate {
        name: Some("dup".into()),
        ..Default::default()
    };
    assert!(matches!(
        store.update_site(owner, second.id, &rename).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(
        store.get_site(owner, second.id).await.unwrap().name,
        "second"
    );
    // Another user may use the same name.
    store.create_site(other, &site("dup", "/a")).await.unwrap();
}

pub async fn sites_are_invisible_to_other_users(store: &dyn Store) {
    let owner = user(store).await;
    let intruder = user(store).await;
    let s = store.create_site(owner, &site("mine", "/m")).await.unwrap();
    assert!(matches!(
        store.get_site(intruder, s.id).await,
        Err(StoreError::NotFound)
    ));
    let listed = store
        .list_sites(intruder, &SiteQuery::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(listed.count, 0);
    let rename = SiteUpdate {
        name: Some("stolen".into()),
        ..Default::default()
    };
    assert!(matches!(
        store.update_site(intruder, s.id, &rename).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_site(intruder, s.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.get_site(owner, s.id).await.unwrap(), s);
}

pub async fn deleting_a_site_cascades_to_its_apps(store: &dyn Store) {
    let owner = user(store).await;
    let s = store
        .create_site(owner, &site("doomed", "/d"))
        .await
        .unwrap();
    let app = AppCreate::from_json(&json!({
        "site_id": s.id, "name": "A", "serialized_class": "x", "source_code": "y"
    }))
    .unwrap();
    let app = store.create_app(owner, &app).await.unwrap();
    store.delete_site(owner, s.id).await.unwrap();
    assert!(matches!(
        store.get_site(owner, s.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.get_app(owner, app.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_site(owner, s.id).await,
        Err(StoreError::NotFound)
    ));
}
