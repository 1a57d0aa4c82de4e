//! Jobs that wait on others: children released when their parents finish (once, also
//! under concurrent completions) and jobs moved on by their transfers; and no job left
//! behind by an App deleted during a create.

use balsam_store::{JobUpdate, Store, StoreError};
use balsam_types::{
    AppCreate, JobBulkPatch, JobQuery, JobState, Page, TransferPatch, TransferQuery,
};
use serde_json::json;

use crate::jobs::{events_of, get, jobs, patch, world};
use crate::support::race;

pub async fn children_are_released_exactly_once_when_all_parents_finish(store: &dyn Store) {
    let (owner, _, app) = world(store).await;
    let parents = store
        .create_jobs(
            owner,
            &jobs(json!([{"workdir": "p1", "app_id": app}, {"workdir": "p2", "app_id": app}])),
        )
        .await
        .unwrap();
    let (p1, p2) = (parents[0].id, parents[1].id);
    let kids = store
        .create_jobs(owner, &jobs(json!([
            {"workdir": "both", "app_id": app, "parent_ids": [p1, p2]},
            {"workdir": "one", "app_id": app, "parent_ids": [p1], "transfers": {"inp": {"location_alias": "laptop", "path": "/in"}}},
        ])))
        .await
        .unwrap();
    let (both, one) = (kids[0].id, kids[1].id);
    let finish = |id| {
        vec![JobBulkPatch {
            id,
            patch: patch(json!({"state": "JOB_FINISHED"})),
        }]
    };
    store
        .update_jobs(owner, JobUpdate::Patches(&finish(p1)))
        .await
        .unwrap();
    assert_eq!(
        get(store, owner, both).await.state,
        JobState::AwaitingParents
    );
    // Has a pending stage-in: released to READY, not STAGED_IN.
    assert_eq!(get(store, owner, one).await.state, JobState::Ready);
    // Finishing again is no change: no second release.
    store
        .update_jobs(owner, JobUpdate::Patches(&finish(p1)))
        .await
        .unwrap();
    store
        .update_jobs(owner, JobUpdate::Patches(&finish(p2)))
        .await
        .unwrap();
    assert_eq!(get(store, owner, both).await.state, JobState::StagedIn);
    assert_eq!(
        events_of(store, owner, both).await,
        vec![
            ("CREATED".into(), "AWAITING_PARENTS".into(), json!({})),
            (
                "AWAITING_PARENTS".into(),
                "STAGED_IN".into(),
                json!({"message": "Skipped stage in"})
            ),
        ]
    );
    assert_eq!(
        events_of(store, owner, one).await[1],
        (
            "AWAITING_PARENTS".into(),
            "READY".into(),
            json!({"message": "All parents finished"})
        )
    );
    // A FAILED parent releases nothing.
    let orphan = store
        .create_jobs(owner, &jobs(json!([{"workdir": "p3", "app_id": app}])))
        .await
        .unwrap()[0]
        .id;
    let kid = store
        .create_jobs(
            owner,
            &jobs(json!([{"workdir": "k3", "app_id": app, "parent_ids": [orphan]}])),
        )
        .await
        .unwrap()[0]
        .id;
    store
        .update_jobs(
            owner,
            JobUpdate::One(orphan, &patch(json!({"state": "FAILED"}))),
        )
        .await
        .unwrap();
    assert_eq!(
        get(store, owner, kid).await.state,
        JobState::AwaitingParents
    );
}

pub async fn transfers_move_jobs_forward_and_stage_out_releases_children(store: &dyn Store) {
    let (owner, _, app) = world(store).await;
    let parent = store
        .create_jobs(
            owner,
            &jobs(json!([{"workdir": "p", "app_id": app, "transfers": {
            "inp": {"location_alias": "laptop", "path": "/in"},
            "out": {"location_alias": "laptop", "path": "/out"}}}])),
        )
        .await
        .unwrap()[0]
        .clone();
    let child = store
        .create_jobs(
            owner,
            &jobs(json!([{"workdir": "c", "app_id": app, "parent_ids": [parent.id]}])),
        )
        .await
        .unwrap()[0]
        .id;
    let items = store
        .list_transfers(
            owner,
            &TransferQuery {
                job_ids: vec![parent.id],
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap()
        .results;
    let (stage_in, stage_out) = (items[0].id, items[1].id);
    let done =
        TransferPatch::from_json(&json!({"state": "done", "transfer_info": {"k": "v"}})).unwrap();
    let updated = store
        .update_transfers(owner, &[(stage_in, done.clone())])
        .await
        .unwrap();
    assert_eq!(
        updated[0].transfer_info,
        json!({"k": "v"}).as_object().unwrap().clone()
    );
    assert_eq!(get(store, owner, parent.id).await.state, JobState::StagedIn);

    store
        .update_jobs(
            owner,
            JobUpdate::One(parent.id, &patch(json!({"state": "POSTPROCESSED"}))),
        )
        .await
        .unwrap();
    assert_eq!(
        get(store, owner, parent.id).await.state,
        JobState::Postprocessed
    );
    let out = store.get_transfer(owner, stage_out).await.unwrap();
    assert_eq!(out.state, "pending");
    store
        .update_transfers(owner, &[(stage_out, done)])
        .await
        .unwrap();
    assert_eq!(
        get(store, owner, parent.id).await.state,
        JobState::JobFinished
    );
    // Upstream forgot this release; we do it on every transition into JOB_FINISHED.
    assert_eq!(get(store, owner, child).await.state, JobState::StagedIn);

    let (other, _, _) = world(store).await;
    let stolen = TransferPatch::from_json(&json!({"state": "error"})).unwrap();
    assert!(matches!(
        store.update_transfers(other, &[(stage_in, stolen)]).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.get_transfer(owner, stage_in).await.unwrap().state,
        "done"
    );
}

/// Two writers finishing the two parents of one child at the same moment: whichever
/// commits last sees both parents finished and releases the child, exactly once.
pub async fn concurrent_parent_completions_release_the_child_once(
    store: std::sync::Arc<dyn Store>,
) {
    let (owner, _, app) = world(store.as_ref()).await;
    let mut trios = Vec::new();
    for i in 0..20 {
        let parents = store
            .create_jobs(
                owner,
                &jobs(json!([{"workdir": format!("p{i}a"), "app_id": app},
                             {"workdir": format!("p{i}b"), "app_id": app}])),
            )
            .await
            .unwrap();
        let (p1, p2) = (parents[0].id, parents[1].id);
        let kid = store
            .create_jobs(
                owner,
                &jobs(json!([{"workdir": format!("k{i}"), "app_id": app, "parent_ids": [p1, p2]}])),
            )
            .await
            .unwrap()[0]
            .id;
        trios.push((p1, p2, kid));
    }
    for &(p1, p2, _) in &trios {
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = [p1, p2]
            .into_iter()
            .map(|id| {
                let (store, barrier) = (store.clone(), barrier.clone());
                tokio::spawn(async move {
                    let finish = vec![JobBulkPatch {
                        id,
                        patch: patch(json!({"state": "JOB_FINISHED"})),
                    }];
                    barrier.wait().await;
                    store
                        .update_jobs(owner, JobUpdate::Patches(&finish))
                        .await
                        .unwrap();
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    }
    for (_, _, kid) in trios {
        assert_eq!(
            get(store.as_ref(), owner, kid).await.state,
            JobState::StagedIn,
            "job {kid} was left waiting after both parents finished"
        );
    }
}

/// An App deleted while jobs are being created on it leaves no job behind: either the
/// create finds no App (404), or the deletion waits for the create's commit and takes its
/// jobs too. On PostgreSQL the create locks each App (`FOR KEY SHARE`) in place of the
/// per-row foreign key migration 0014 dropped, so this pins the lock.
pub async fn an_app_deleted_during_a_create_leaves_no_jobs(store: std::sync::Arc<dyn Store>) {
    let (owner, site_id, _) = world(store.as_ref()).await;
    let (mut created, mut refused) = (0, 0);
    for round in 0..25 {
        let app = AppCreate::from_json(&json!({"site_id": site_id, "name": format!("A{round}"),
            "serialized_class": "x", "source_code": "y"}))
        .unwrap();
        let app = store.create_app(owner, &app).await.unwrap().id;
        let body = jobs(json!((0..200)
            .map(|i| json!({"workdir": format!("r{round}/{i}"), "app_id": app}))
            .collect::<Vec<_>>()));
        // Let the create read its App first, most rounds.
        let lag = std::time::Duration::from_micros(500 * (round % 4));
        let (create, delete) = {
            let (a, b) = (store.clone(), store.clone());
            race(
                async move { a.create_jobs(owner, &body).await },
                async move { b.delete_app(owner, app).await },
                lag,
            )
            .await
        };
        match create {
            Ok(_) => created += 1,
            Err(StoreError::MissingReference(_)) => refused += 1,
            Err(other) => panic!("create: {other:?}"),
        }
        delete.unwrap();
        let q = JobQuery {
            app_id: Some(app),
            ..Default::default()
        };
        let left = store.list_jobs(owner, &q, Page::default()).await.unwrap();
        assert!(
            left.results.is_empty(),
            "round {round}: {} jobs of the deleted App {app} are left",
            left.results.len()
        );
    }
    assert_eq!(created + refused, 25);
}
