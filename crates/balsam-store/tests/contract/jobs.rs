//! Repetition note: each story sets up and checks its own world, spelled out, so a failing
//! story reads on its own; shared fixtures live in `support.rs` and `jobs.rs`.

use crate::support::user;
use balsam_store::{JobUpdate, Store, StoreError};
use balsam_types::{
    AppCreate, EventQuery, Job, JobBulkPatch, JobCreate, JobPatch, JobQuery, JobState, Page,
    SiteCreate, TransferQuery, UserId,
};
use serde_json::{json, Value};

/// A Site with a transfer location and an App with one stage-in and one stage-out slot.
pub async fn world(store: &dyn Store) -> (UserId, i64, i64) {
    let owner = user(store).await;
    let s = SiteCreate::from_json(&json!({"name": "s", "path": "/s",
        "transfer_locations": {"laptop": "globus://abc"}}))
    .unwrap();
    let s = store.create_site(owner, &s).await.unwrap();
    let app = AppCreate::from_json(
        &json!({"site_id": s.id, "name": "App", "serialized_class": "x",
        "source_code": "y", "transfers": {
            "inp": {"required": false, "direction": "in", "local_path": "in.dat"},
            "out": {"required": false, "direction": "out", "local_path": "out.dat"}}}),
    )
    .unwrap();
    let app = store.create_app(owner, &app).await.unwrap();
    (owner, s.id, app.id)
}

pub fn jobs(body: Value) -> Vec<JobCreate> {
    JobCreate::list_from_json(&body).unwrap()
}

pub(crate) fn patch(body: Value) -> JobPatch {
    JobPatch::from_json(&body).unwrap()
}

pub(crate) async fn events_of(
    store: &dyn Store,
    owner: UserId,
    job: i64,
) -> Vec<(String, String, Value)> {
    let q = EventQuery {
        job_ids: vec![job],
        newest_first: false,
        ..Default::default()
    };
    let mut events = store
        .list_events(owner, &q, Page::default())
        .await
        .unwrap()
        .results;
    events.sort_by_key(|e| e.id);
    events
        .into_iter()
        .map(|e| (e.from_state, e.to_state, Value::Object(e.data)))
        .collect()
}

pub(crate) async fn get(store: &dyn Store, owner: UserId, id: i64) -> Job {
    store.get_job(owner, id).await.unwrap()
}

pub async fn creation_sets_initial_states_transfers_and_events(store: &dyn Store) {
    let (owner, site_id, app) = world(store).await;
    let created = store
        .create_jobs(
            owner,
            &jobs(json!([
                {"workdir": "plain", "app_id": app},
                {"workdir": "staged", "app_id": app, "transfers": {
                    "inp": {"location_alias": "laptop", "path": "/data/in"},
                    "out": {"location_alias": "laptop", "path": "/data/out"}}},
            ])),
        )
        .await
        .unwrap();
    assert_eq!(created[0].state, JobState::StagedIn);
    assert_eq!(created[1].state, JobState::Ready);
    let child = store
        .create_jobs(
            owner,
            &jobs(json!([{"workdir": "child", "app_id": app, "parent_ids": [created[0].id]}])),
        )
        .await
        .unwrap();
    assert_eq!(child[0].state, JobState::AwaitingParents);
    assert_eq!(child[0].parent_ids, vec![created[0].id]);
    assert_eq!(get(store, owner, child[0].id).await, child[0]);

    let items = store
        .list_transfers(
            owner,
            &TransferQuery {
                job_ids: vec![created[1].id],
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap()
        .results;
    let states: Vec<(&str, &str)> = items
        .iter()
        .map(|t| (t.local_path.as_str(), t.state.as_str()))
        .collect();
    assert_eq!(
        states,
        vec![("in.dat", "pending"), ("out.dat", "awaiting_job")]
    );
    assert_eq!(
        events_of(store, owner, created[1].id).await,
        vec![("CREATED".into(), "READY".into(), json!({}))]
    );
    let counts = store.job_state_counts(owner).await.unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!(counts[0].site_id, site_id);
    assert_eq!(counts[0].counts.get("STAGED_IN"), Some(&1));
    assert_eq!(counts[0].counts.get("READY"), Some(&1));
    assert_eq!(counts[0].counts.get("AWAITING_PARENTS"), Some(&1));
}

pub async fn a_bad_item_rejects_the_whole_create(store: &dyn Store) {
    let (owner, _, app) = world(store).await;
    let (other, _, foreign_app) = world(store).await;
    let cases = [
        (
            json!([{"workdir": "a", "app_id": app}, {"workdir": "b", "app_id": foreign_app}]),
            "Apps",
        ),
        (
            json!([{"workdir": "a", "app_id": app}, {"workdir": "b", "app_id": app, "parent_ids": [987654]}]),
            "parents",
        ),
        (
            json!([{"workdir": "a", "app_id": app}, {"workdir": "a", "app_id": app}]),
            "Workdirs",
        ),
        (
            json!([{"workdir": "a", "app_id": app}, {"workdir": "b", "app_id": app,
            "transfers": {"nope": {"location_alias": "laptop", "path": "/x"}}}]),
            "no Transfer slot named nope",
        ),
        (
            json!([{"workdir": "a", "app_id": app}, {"workdir": "b", "app_id": app,
            "transfers": {"inp": {"location_alias": "mars", "path": "/x"}}}]),
            "no Transfer URL named mars",
        ),
    ];
    for (body, expected) in cases {
        let err = store.create_jobs(owner, &jobs(body)).await.unwrap_err();
        let msg = match err {
            StoreError::Invalid(m) | StoreError::MissingReference(m) => m,
            other => panic!("unexpected {other:?}"),
        };
        assert!(msg.contains(expected), "{msg}");
    }
    let listed = store
        .list_jobs(owner, &JobQuery::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(listed.count, 0);
    assert!(store.job_state_counts(owner).await.unwrap().is_empty());
    let events = store
        .list_events(owner, &EventQuery::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(events.count, 0);
    assert_eq!(
        store
            .list_jobs(other, &JobQuery::default(), Page::default())
            .await
            .unwrap()
            .count,
        0
    );
}

pub async fn each_patch_applies_its_own_keys_and_writes_one_event_per_change(store: &dyn Store) {
    let (owner, _, app) = world(store).await;
    let created = store
        .create_jobs(
            owner,
            &jobs(json!([{"workdir": "shell", "app_id": app}, {"workdir": "py", "app_id": app}])),
        )
        .await
        .unwrap();
    let (a, b) = (created[0].id, created[1].id);
    for p in [
        json!({"state": "PREPROCESSED"}),
        json!({"state": "RUNNING"}),
        json!({"state": "RUN_DONE"}),
    ] {
        let patches = vec![
            JobBulkPatch {
                id: a,
                patch: patch(p.clone()),
            },
            JobBulkPatch {
                id: b,
                patch: patch(p),
            },
        ];
        store
            .update_jobs(owner, JobUpdate::Patches(&patches))
            .await
            .unwrap();
    }
    // Upstream's first-patch-keys bug lost the second job's return value here.
    let patches = vec![
        JobBulkPatch {
            id: a,
            patch: patch(json!({"state": "POSTPROCESSED", "state_data": {}})),
        },
        JobBulkPatch {
            id: b,
            patch: patch(
                json!({"state": "POSTPROCESSED", "serialized_return_value": "gARLAy4=",
            "state_timestamp": "2021-01-01T00:00:00.123456"}),
            ),
        },
    ];
    assert_eq!(
        store
            .update_jobs(owner, JobUpdate::Patches(&patches))
            .await
            .unwrap(),
        2
    );
    let (ja, jb) = (get(store, owner, a).await, get(store, owner, b).await);
    assert_eq!(
        (ja.state, jb.state),
        (JobState::JobFinished, JobState::JobFinished)
    );
    assert_eq!(ja.serialized_return_value, "");
    assert_eq!(jb.serialized_return_value, "gARLAy4=");
    let ev = events_of(store, owner, b).await;
    let transitions: Vec<(&str, &str)> = ev
        .iter()
        .map(|(f, t, _)| (f.as_str(), t.as_str()))
        .collect();
    assert_eq!(
        transitions,
        vec![
            ("CREATED", "STAGED_IN"),
            ("STAGED_IN", "PREPROCESSED"),
            ("PREPROCESSED", "RUNNING"),
            ("RUNNING", "RUN_DONE"),
            ("RUN_DONE", "JOB_FINISHED")
        ]
    );
    assert_eq!(ev[4].2, json!({"message": "Skipped stage out"}));
    // The naive state_timestamp comes back exactly as the event's timestamp.
    let q = EventQuery {
        job_ids: vec![b],
        to_state: Some("JOB_FINISHED".into()),
        newest_first: true,
        ..Default::default()
    };
    let e = &store
        .list_events(owner, &q, Page::default())
        .await
        .unwrap()
        .results[0];
    assert_eq!(
        balsam_types::time::isoformat_naive(&e.timestamp),
        "2021-01-01T00:00:00.123456"
    );

    // Re-requesting the current state changes nothing and writes no event.
    let same = vec![JobBulkPatch {
        id: a,
        patch: patch(json!({"state": "JOB_FINISHED", "data": {"x": 1}})),
    }];
    store
        .update_jobs(owner, JobUpdate::Patches(&same))
        .await
        .unwrap();
    assert_eq!(events_of(store, owner, a).await.len(), 5);
    assert_eq!(
        get(store, owner, a).await.data,
        json!({"x": 1}).as_object().unwrap().clone()
    );
}

/// A batch whose patches all set the same columns (the Site agent's state changes) is
/// bound as typed arrays on PostgreSQL; one whose patches differ is expanded from a JSON
/// document. Both must store every kind of column exactly as sent, nulls included.
pub async fn a_batch_of_same_shaped_patches_writes_every_column_kind(store: &dyn Store) {
    let (owner, _, app) = world(store).await;
    let created = store
        .create_jobs(
            owner,
            &jobs(json!([
                {"workdir": "w/0", "app_id": app, "return_code": 1, "tags": {"k": "old"}},
                {"workdir": "w/1", "app_id": app, "return_code": 2, "tags": {"k": "old"}},
                {"workdir": "w/2", "app_id": app, "return_code": 3, "tags": {"k": "old"}},
            ])),
        )
        .await
        .unwrap();
    let ids: Vec<i64> = created.iter().map(|j| j.id).collect();
    let shaped = |i: usize, rc: Value, gpus: Value, cleanup: bool| JobBulkPatch {
        id: ids[i],
        patch: patch(json!({
            "workdir": format!("moved/{i}"), "tags": {"k": format!("new{i}")},
            "serialized_parameters": "p", "data": {"i": i, "nested": [1, {"x": null}]},
            "return_code": rc, "num_nodes": 2 + i, "ranks_per_node": 3, "threads_per_rank": 4,
            "threads_per_core": 1, "launch_params": {"cpu_bind": "depth"},
            "gpus_per_rank": gpus, "node_packing_count": 5, "wall_time_min": 60 + i,
            "batch_job_id": null, "pending_file_cleanup": cleanup,
            "serialized_return_value": "r", "serialized_exception": "e",
            "state": "PREPROCESSED", "state_data": {"by": "agent"},
        })),
    };
    // Same columns in both patches: return_code null in one, an integral and a
    // fractional gpus_per_rank.
    let same = vec![
        shaped(0, json!(7), json!(1), true),
        shaped(1, Value::Null, json!(0.5), false),
    ];
    assert_eq!(
        store
            .update_jobs(owner, JobUpdate::Patches(&same))
            .await
            .unwrap(),
        2
    );
    // The third on its own beside a patch of other columns: the document path.
    let mixed = vec![
        shaped(2, json!(9), json!(2.25), true),
        JobBulkPatch {
            id: ids[0],
            patch: patch(json!({"serialized_exception": "again"})),
        },
    ];
    store
        .update_jobs(owner, JobUpdate::Patches(&mixed))
        .await
        .unwrap();
    for (i, rc, gpus, cleanup) in [
        (0usize, Some(7), 1.0, true),
        (1, None, 0.5, false),
        (2, Some(9), 2.25, true),
    ] {
        let j = get(store, owner, ids[i]).await;
        let want_exception = if i == 0 { "again" } else { "e" };
        assert_eq!(
            (
                j.workdir.as_str(),
                j.tags.get("k").cloned(),
                j.serialized_parameters.as_str(),
                Value::Object(j.data.clone()),
                j.return_code,
                (
                    j.num_nodes,
                    j.ranks_per_node,
                    j.threads_per_rank,
                    j.threads_per_core
                ),
                Value::Object(j.launch_params.clone()),
                j.gpus_per_rank,
                (j.node_packing_count, j.wall_time_min, j.batch_job_id),
                j.pending_file_cleanup,
                (
                    j.serialized_return_value.as_str(),
                    j.serialized_exception.as_str()
                ),
                j.state,
            ),
            (
                format!("moved/{i}").as_str(),
                Some(json!(format!("new{i}"))),
                "p",
                json!({"i": i, "nested": [1, {"x": null}]}),
                rc,
                (2 + i as i64, 3, 4, 1),
                json!({"cpu_bind": "depth"}),
                gpus,
                (5, 60 + i as i64, None),
                cleanup,
                ("r", want_exception),
                JobState::Preprocessed,
            ),
            "job {i}"
        );
        let ev = events_of(store, owner, ids[i]).await;
        assert_eq!(
            ev.last()
                .map(|(f, t, d)| (f.as_str(), t.as_str(), d.clone())),
            Some(("STAGED_IN", "PREPROCESSED", json!({"by": "agent"}))),
            "job {i}"
        );
    }
    // The tag counts followed both paths.
    let q = |v: &str| JobQuery {
        tags: vec![("k".into(), v.into())],
        ..Default::default()
    };
    for (v, n) in [("old", 0), ("new0", 1), ("new1", 1), ("new2", 1)] {
        let page = store
            .list_jobs(
                owner,
                &q(v),
                Page {
                    limit: 0,
                    offset: 0,
                },
            )
            .await
            .unwrap();
        assert_eq!(page.count, n, "tag k:{v}");
    }
}

pub async fn a_failed_bulk_update_changes_nothing(store: &dyn Store) {
    let (owner, _, app) = world(store).await;
    let (other, _, other_app) = world(store).await;
    let mine = store
        .create_jobs(owner, &jobs(json!([{"workdir": "a", "app_id": app}])))
        .await
        .unwrap();
    let theirs = store
        .create_jobs(other, &jobs(json!([{"workdir": "a", "app_id": other_app}])))
        .await
        .unwrap();
    let before = get(store, owner, mine[0].id).await;
    let cases = vec![
        vec![
            JobBulkPatch {
                id: mine[0].id,
                patch: patch(json!({"state": "FAILED"})),
            },
            JobBulkPatch {
                id: theirs[0].id,
                patch: patch(json!({"state": "FAILED"})),
            },
        ],
        vec![
            JobBulkPatch {
                id: mine[0].id,
                patch: patch(json!({"state": "FAILED"})),
            },
            JobBulkPatch {
                id: mine[0].id,
                patch: patch(json!({"state": "RUNNING"})),
            },
        ],
        vec![JobBulkPatch {
            id: mine[0].id,
            patch: patch(json!({"state": "FAILED", "batch_job_id": 99999})),
        }],
    ];
    for patches in cases {
        assert!(matches!(
            store.update_jobs(owner, JobUpdate::Patches(&patches)).await,
            Err(StoreError::Invalid(_))
        ));
    }
    assert!(matches!(
        store
            .update_jobs(
                owner,
                JobUpdate::One(theirs[0].id, &patch(json!({"state": "FAILED"})))
            )
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(get(store, owner, mine[0].id).await, before);
    assert_eq!(events_of(store, owner, mine[0].id).await.len(), 1);
    assert_eq!(
        get(store, other, theirs[0].id).await.state,
        JobState::StagedIn
    );
}

pub async fn query_updates_and_deletes_respect_filters_locks_and_limits(store: &dyn Store) {
    let (owner, _, app) = world(store).await;
    let created = store
        .create_jobs(
            owner,
            &jobs(json!([
                {"workdir": "run/1", "app_id": app, "tags": {"group": "a"}},
                {"workdir": "run/2", "app_id": app, "tags": {"group": "a"}},
                {"workdir": "other", "app_id": app, "tags": {"group": "b"}},
            ])),
        )
        .await
        .unwrap();
    let q = JobQuery {
        tags: vec![("group".into(), "a".into())],
        ..Default::default()
    };
    let n = store
        .update_jobs(
            owner,
            JobUpdate::Query(
                &q,
                &patch(json!({"state": "RESTART_READY", "num_nodes": 4})),
            ),
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    let listed = store
        .list_jobs(
            owner,
            &JobQuery {
                states: vec![JobState::RestartReady],
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(listed.count, 2);
    assert!(listed.results.iter().all(|j| j.num_nodes == 4));
    let q = JobQuery {
        workdir_contains: Some("run/".into()),
        ..Default::default()
    };
    assert_eq!(store.delete_jobs(owner, &q).await.unwrap(), 2);
    let rest = store
        .list_jobs(owner, &JobQuery::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(
        rest.results.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![created[2].id]
    );
    let counts = store.job_state_counts(owner).await.unwrap();
    assert_eq!(counts[0].counts.values().sum::<i64>(), 1);
}

pub async fn list_filters_and_orderings(store: &dyn Store) {
    let (owner, site_id, app) = world(store).await;
    let created = store
        .create_jobs(
            owner,
            &jobs(json!([
                {"workdir": "b", "app_id": app, "tags": {"mass": 1.0, "x": "y"}},
                {"workdir": "a", "app_id": app, "tags": {"mass": 2.0}},
                {"workdir": "c", "app_id": app},
            ])),
        )
        .await
        .unwrap();
    let child = store
        .create_jobs(
            owner,
            &jobs(json!([{"workdir": "d", "app_id": app, "parent_ids": [created[0].id]}])),
        )
        .await
        .unwrap()[0]
        .id;
    let ids = |q: JobQuery| async move {
        store
            .list_jobs(owner, &q, Page::default())
            .await
            .unwrap()
            .results
            .into_iter()
            .map(|j| j.id)
            .collect::<Vec<_>>()
    };
    let [b, a, c] = [created[0].id, created[1].id, created[2].id];
    assert_eq!(
        ids(JobQuery {
            tags: vec![("mass".into(), "2.0".into())],
            ..Default::default()
        })
        .await,
        vec![a]
    );
    assert_eq!(
        ids(JobQuery {
            parent_ids: vec![b],
            ..Default::default()
        })
        .await,
        vec![child]
    );
    assert_eq!(
        ids(JobQuery {
            site_ids: vec![site_id],
            state_ne: Some(JobState::AwaitingParents),
            ..Default::default()
        })
        .await,
        vec![b, a, c]
    );
    assert_eq!(
        ids(JobQuery {
            ordering: Some((balsam_types::JobOrdering::Workdir, true)),
            ..Default::default()
        })
        .await,
        vec![child, c, b, a]
    );
    assert_eq!(
        ids(JobQuery {
            app_id: Some(0),
            ids: vec![c, a],
            ..Default::default()
        })
        .await,
        vec![a, c]
    );
    let page = store
        .list_jobs(
            owner,
            &JobQuery::default(),
            Page {
                limit: 2,
                offset: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!((page.count, page.results.len()), (4, 2));

    // Pages by ids (the SDK's polling): the count is every match, whether or not the page
    // holds them all, and unknown or repeated ids count nothing.
    let by_ids = |ids: Vec<i64>, state_ne: Option<JobState>, limit: i64, offset: i64| async move {
        let q = JobQuery {
            ids,
            state_ne,
            ..Default::default()
        };
        let page = store
            .list_jobs(owner, &q, Page { limit, offset })
            .await
            .unwrap();
        let got: Vec<i64> = page.results.iter().map(|j| j.id).collect();
        (page.count, got)
    };
    let nowhere = child + 1_000_000;
    assert_eq!(
        by_ids(vec![c, a, a, nowhere], None, 500, 0).await,
        (2, vec![a, c])
    );
    assert_eq!(
        by_ids(
            vec![b, a, c, child],
            Some(JobState::AwaitingParents),
            500,
            0
        )
        .await,
        (3, vec![b, a, c])
    );
    assert_eq!(by_ids(vec![nowhere], None, 500, 0).await, (0, vec![]));
    assert_eq!(by_ids(vec![c, a, b], None, 2, 0).await, (3, vec![b, a]));
    assert_eq!(by_ids(vec![c, a, b], None, 2, 2).await, (3, vec![c]));
    assert_eq!(by_ids(vec![c, a, b], None, 3, 5).await, (3, vec![]));
}

/// Deleting a user deletes their jobs, with their LogEvents, TransferItems and counts,
/// through the database's own cascade (users -> sites -> apps -> jobs). On PostgreSQL the
/// last link is a statement trigger, not a foreign key (migration 0014), so this pins it;
/// another user's jobs stay.
pub async fn a_deleted_users_jobs_go_with_them(store: &dyn Store) {
    let name = format!("leaving-{}", uuid::Uuid::new_v4().simple());
    let owner = store.create_user(&name, "hash").await.unwrap().id;
    let site = SiteCreate::from_json(&json!({"name": "s", "path": "/s",
        "transfer_locations": {"laptop": "globus://abc"}}))
    .unwrap();
    let site = store.create_site(owner, &site).await.unwrap();
    let app = AppCreate::from_json(&json!({"site_id": site.id, "name": "App",
        "serialized_class": "x", "source_code": "y", "transfers": {
            "inp": {"required": false, "direction": "in", "local_path": "in.dat"}}}))
    .unwrap();
    let app = store.create_app(owner, &app).await.unwrap();
    let made = store
        .create_jobs(
            owner,
            &jobs(json!([
                {"workdir": "a", "app_id": app.id, "tags": {"run": "1"}},
                {"workdir": "b", "app_id": app.id,
                 "transfers": {"inp": {"location_alias": "laptop", "path": "/x"}}},
            ])),
        )
        .await
        .unwrap();
    let child = store
        .create_jobs(
            owner,
            &jobs(json!([{"workdir": "c", "app_id": app.id, "parent_ids": [made[0].id]}])),
        )
        .await
        .unwrap();
    let ids: Vec<i64> = made.iter().chain(&child).map(|j| j.id).collect();
    let (other, _, other_app) = world(store).await;
    let kept = store
        .create_jobs(other, &jobs(json!([{"workdir": "k", "app_id": other_app}])))
        .await
        .unwrap();

    store.delete_user(&name).await.unwrap();

    let by_ids = |owner, ids: Vec<i64>| async move {
        let q = JobQuery {
            ids,
            ..Default::default()
        };
        let page = store.list_jobs(owner, &q, Page::default()).await.unwrap();
        (page.count, page.results.len())
    };
    assert_eq!(
        by_ids(owner, ids.clone()).await,
        (0, 0),
        "the jobs are gone"
    );
    let events = store
        .list_events(owner, &EventQuery::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(events.count, 0, "their LogEvents are gone");
    let transfers = store
        .list_transfers(owner, &TransferQuery::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(transfers.count, 0, "their TransferItems are gone");
    assert_eq!(
        by_ids(other, vec![kept[0].id]).await,
        (1, 1),
        "another user's job stays"
    );
    assert_eq!(events_of(store, other, kept[0].id).await.len(), 1);
}

/// A job's LogEvents go with it, however the job is deleted: by id, by query, and through
/// its Site (Site -> Apps -> jobs). On PostgreSQL the cascade is a statement trigger, not
/// a foreign key (migration 0008), so this pins it.
pub async fn log_events_are_deleted_with_their_jobs(store: &dyn Store) {
    let (owner, site_id, app) = world(store).await;
    let body = |prefix: &str| {
        jobs(json!((0..3)
            .map(|i| json!({"workdir": format!("{prefix}/{i}"), "app_id": app}))
            .collect::<Vec<_>>()))
    };
    let events = |owner| async move {
        store
            .list_events(owner, &EventQuery::default(), Page::default())
            .await
            .unwrap()
            .results
    };
    let a = store.create_jobs(owner, &body("a")).await.unwrap();
    let b = store.create_jobs(owner, &body("b")).await.unwrap();
    let c = store.create_jobs(owner, &body("c")).await.unwrap();
    assert_eq!(events(owner).await.len(), 9);

    store.delete_job(owner, a[0].id).await.unwrap();
    let left = events(owner).await;
    assert_eq!(left.len(), 8);
    assert!(left.iter().all(|e| e.job_id != a[0].id));

    let q = JobQuery {
        ids: b.iter().map(|j| j.id).collect(),
        ..Default::default()
    };
    assert_eq!(store.delete_jobs(owner, &q).await.unwrap(), 3);
    let left: Vec<i64> = events(owner).await.iter().map(|e| e.job_id).collect();
    let mut expected: Vec<i64> = a[1..].iter().chain(&c).map(|j| j.id).collect();
    let mut got = left.clone();
    got.sort_unstable();
    expected.sort_unstable();
    assert_eq!(got, expected);

    store.delete_site(owner, site_id).await.unwrap();
    assert!(events(owner).await.is_empty());
}

/// What a bulk create answers (and puts in the event stream) is what a later read
/// returns: the store builds the answer without reading the rows back.
pub async fn created_jobs_and_events_equal_what_a_read_returns(store: &dyn Store) {
    let (owner, _, app) = world(store).await;
    let created = store
        .create_jobs(
            owner,
            &jobs(json!([
                {"workdir": "r/0", "app_id": app, "tags": {"b": "2", "a": "1", "long key": "x"},
                 "data": {"nested": {"z": [1, 2.5, "s", null, true]}, "n": 12345678901234_i64},
                 "serialized_parameters": "params", "return_code": 7, "num_nodes": 3,
                 "ranks_per_node": 4, "threads_per_rank": 2, "threads_per_core": 1,
                 "launch_params": {"cpu_bind": "depth"}, "gpus_per_rank": 0.5,
                 "node_packing_count": 2, "wall_time_min": 30},
                {"workdir": "r/1", "app_id": app, "parent_ids": []},
            ])),
        )
        .await
        .unwrap();
    for job in &created {
        assert_eq!(&get(store, owner, job.id).await, job);
    }
    let q = EventQuery {
        job_ids: created.iter().map(|j| j.id).collect(),
        newest_first: false,
        ..Default::default()
    };
    let listed = store.list_events(owner, &q, Page::default()).await.unwrap();
    assert_eq!(listed.count, 2);
    for e in &listed.results {
        assert_eq!(e.from_state, "CREATED");
        assert_eq!(e.to_state, "STAGED_IN");
        let job = created.iter().find(|j| j.id == e.job_id).unwrap();
        assert_eq!(e.timestamp, job.last_update);
    }
}

/// A one-tag list's count (kept per tag on PostgreSQL) stays equal to the jobs that carry
/// the tag through creates, tag patches, state patches and deletes; and a page of a tag
/// most jobs carry (read by walking the owner's jobs in order on PostgreSQL) equals the
/// same page cut from the full list.
pub async fn tag_counts_and_pages_follow_every_change(store: &dyn Store) {
    let (owner, _, app) = world(store).await;
    let (other, _, other_app) = world(store).await;
    let body: Vec<Value> = (0..120)
        .map(|i| {
            let kind = if i % 4 == 0 { "rare" } else { "common" };
            json!({"workdir": format!("t/{i}"), "app_id": app,
                   "tags": {"kind": kind, "n": (i % 3).to_string()}})
        })
        .collect();
    let created = store
        .create_jobs(owner, &jobs(Value::Array(body)))
        .await
        .unwrap();
    // Another user's jobs with the same tags are never counted.
    store
        .create_jobs(
            other,
            &jobs(json!([{"workdir": "x", "app_id": other_app, "tags": {"kind": "common"}}])),
        )
        .await
        .unwrap();
    let tag = |k: &str, v: &str| JobQuery {
        tags: vec![(k.into(), v.into())],
        ..Default::default()
    };
    let check = |label: &'static str| async move {
        let all = store
            .list_jobs(
                owner,
                &JobQuery::default(),
                Page {
                    limit: 1000,
                    offset: 0,
                },
            )
            .await
            .unwrap()
            .results;
        for (k, v) in [
            ("kind", "common"),
            ("kind", "rare"),
            ("n", "0"),
            ("n", "2"),
            ("x", "y"),
        ] {
            let expected: Vec<i64> = all
                .iter()
                .filter(|j| j.tags.get(k).and_then(Value::as_str) == Some(v))
                .map(|j| j.id)
                .collect();
            let counted = store
                .list_jobs(
                    owner,
                    &tag(k, v),
                    Page {
                        limit: 0,
                        offset: 0,
                    },
                )
                .await
                .unwrap()
                .count;
            assert_eq!(counted, expected.len() as i64, "{label}: count of {k}:{v}");
            for (offset, descending) in [(0, false), (3, false), (0, true)] {
                let q = JobQuery {
                    ordering: Some((balsam_types::job::JobOrdering::Id, descending)),
                    ..tag(k, v)
                };
                let page = store
                    .list_jobs(owner, &q, Page { limit: 2, offset })
                    .await
                    .unwrap();
                let mut want = expected.clone();
                if descending {
                    want.reverse();
                }
                let want: Vec<i64> = want.into_iter().skip(offset as usize).take(2).collect();
                assert_eq!(
                    page.count,
                    expected.len() as i64,
                    "{label}: page count {k}:{v}"
                );
                assert_eq!(
                    page.results.iter().map(|j| j.id).collect::<Vec<_>>(),
                    want,
                    "{label}: page of {k}:{v} at {offset}, descending {descending}"
                );
            }
        }
    };
    check("created").await;

    // State patches leave tags alone; tag patches move jobs between tags.
    let moves: Vec<JobBulkPatch> = created[..40]
        .iter()
        .map(|j| JobBulkPatch {
            id: j.id,
            patch: patch(json!({"state": "RESTART_READY"})),
        })
        .collect();
    store
        .update_jobs(owner, JobUpdate::Patches(&moves))
        .await
        .unwrap();
    check("state patched").await;
    let retag: Vec<JobBulkPatch> = created[10..30]
        .iter()
        .map(|j| JobBulkPatch {
            id: j.id,
            patch: patch(json!({"tags": {"kind": "rare", "x": "y"}})),
        })
        .collect();
    store
        .update_jobs(owner, JobUpdate::Patches(&retag))
        .await
        .unwrap();
    check("retagged").await;
    store
        .update_jobs(
            owner,
            JobUpdate::Query(&tag("x", "y"), &patch(json!({"tags": {}}))),
        )
        .await
        .unwrap();
    check("tags cleared").await;
    let gone = JobQuery {
        ids: created[50..90].iter().map(|j| j.id).collect(),
        ..Default::default()
    };
    assert_eq!(store.delete_jobs(owner, &gone).await.unwrap(), 40);
    check("deleted").await;
}
