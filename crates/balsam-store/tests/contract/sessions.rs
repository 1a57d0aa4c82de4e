//! Repetition note: each story sets up and checks its own world, spelled out, so a failing
//! story reads on its own; shared fixtures live in `support.rs` and `jobs.rs`.

use crate::jobs::{jobs, world};
use crate::support::race;
use balsam_store::{JobUpdate, Store, StoreError};
use balsam_types::{
    BatchJob, BatchJobCreate, BatchJobPatch, BatchJobQuery, JobPatch, JobQuery, JobState, Page,
    Session, SessionAcquire, SessionCreate,
};
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;

fn acquire(body: serde_json::Value) -> SessionAcquire {
    SessionAcquire::from_json(&body).unwrap()
}

fn serial(max: i64) -> SessionAcquire {
    acquire(
        json!({"max_num_jobs": max, "filter_tags": {}, "states": ["PREPROCESSED", "RESTART_READY"]}),
    )
}

async fn make_runnable(
    store: &dyn Store,
    owner: i64,
    app: i64,
    n: usize,
    extra: serde_json::Value,
) -> Vec<i64> {
    let body: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let mut j = json!({"workdir": format!("w/{}/{i}", uuid::Uuid::new_v4().simple()), "app_id": app});
            if let (Some(obj), Some(extra)) = (j.as_object_mut(), extra.as_object()) {
                obj.extend(extra.clone());
            }
            j
        })
        .collect();
    let created = store
        .create_jobs(owner, &jobs(serde_json::Value::Array(body)))
        .await
        .unwrap();
    let ids: Vec<i64> = created.iter().map(|j| j.id).collect();
    let q = JobQuery {
        ids: ids.clone(),
        ..Default::default()
    };
    let p = JobPatch::from_json(&json!({"state": "PREPROCESSED"})).unwrap();
    store
        .update_jobs(owner, JobUpdate::Query(&q, &p))
        .await
        .unwrap();
    ids
}

pub async fn concurrent_acquires_never_hand_out_a_job_twice(store: Arc<dyn Store>) {
    let (owner, site_id, app) = world(store.as_ref()).await;
    let ids = make_runnable(store.as_ref(), owner, app, 400, json!({})).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let s = session(store.as_ref(), owner, site_id, None).await;
            let mut got = Vec::new();
            loop {
                let batch = store.acquire_jobs(owner, s.id, &serial(17)).await.unwrap();
                if batch.is_empty() {
                    break;
                }
                assert!(batch.iter().all(|j| j.session_id == Some(s.id)));
                got.extend(batch.into_iter().map(|j| j.id));
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let distinct: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(distinct.len(), all.len(), "a job was acquired twice");
    assert_eq!(distinct, ids.into_iter().collect::<HashSet<_>>());
}

pub async fn acquire_filters_and_packs_nodes(store: &dyn Store) {
    let (owner, site_id, app) = world(store).await;
    let large = make_runnable(
        store,
        owner,
        app,
        4,
        json!({"num_nodes": 2, "wall_time_min": 30}),
    )
    .await;
    let small = make_runnable(
        store,
        owner,
        app,
        8,
        json!({"num_nodes": 1, "node_packing_count": 8, "tags": {"kind": "small"}}),
    )
    .await;
    let s = session(store, owner, site_id, None).await;

    let tagged = acquire(json!({"max_num_jobs": 100, "filter_tags": {"kind": "nope"}}));
    assert!(store
        .acquire_jobs(owner, s.id, &tagged)
        .await
        .unwrap()
        .is_empty());
    let short = acquire(
        json!({"max_num_jobs": 100, "filter_tags": {}, "max_wall_time_min": 10.9, "max_nodes_per_job": 1, "max_aggregate_nodes": 0.5}),
    );
    let got = store.acquire_jobs(owner, s.id, &short).await.unwrap();
    assert_eq!(got.len(), 4, "0.5 nodes hold four 1/8-node jobs");
    assert!(got.iter().all(|j| small.contains(&j.id)));
    let s2 = session(store, owner, site_id, None).await;
    let packed =
        acquire(json!({"max_num_jobs": 100, "filter_tags": {}, "max_aggregate_nodes": 1.5}));
    let got = store.acquire_jobs(owner, s2.id, &packed).await.unwrap();
    assert_eq!(
        got.len(),
        4,
        "the four remaining small jobs (0.5) fit, the next 2-node job does not"
    );
    let s3 = session(store, owner, site_id, None).await;
    let all = acquire(json!({"max_num_jobs": 100, "filter_tags": {}, "max_aggregate_nodes": 5.0}));
    let got = store.acquire_jobs(owner, s3.id, &all).await.unwrap();
    assert_eq!(
        got.len(),
        2,
        "two 2-node jobs fit in 5 nodes, a third does not"
    );
    assert!(got.iter().all(|j| large.contains(&j.id)));

    // The spec's example on a fresh Site: 4 × (2 nodes) + 8 × (1/8 node) with 5 nodes
    // free gives the 8 small jobs plus 2 large ones.
    let (owner, site_id, app) = world(store).await;
    make_runnable(store, owner, app, 4, json!({"num_nodes": 2})).await;
    let small = make_runnable(store, owner, app, 8, json!({"node_packing_count": 8})).await;
    let s = session(store, owner, site_id, None).await;
    let got = store.acquire_jobs(owner, s.id, &all).await.unwrap();
    assert_eq!(got.len(), 10);
    assert_eq!(got.iter().filter(|j| small.contains(&j.id)).count(), 8);
}

/// A launcher whose `filter_tags` few waiting jobs carry, behind more than a thousand
/// untagged candidates (PostgreSQL then reads the tagged jobs from the tags index instead
/// of walking every candidate): it gets exactly what the walk would give, in order,
/// packed, never a job twice, and nothing when no job carries the tag.
pub async fn rare_filter_tags_find_their_jobs_behind_many_candidates(store: Arc<dyn Store>) {
    let (owner, site_id, app) = world(store.as_ref()).await;
    make_runnable(
        store.as_ref(),
        owner,
        app,
        1_100,
        json!({"tags": {"exp": "A"}}),
    )
    .await;
    let tagged = make_runnable(
        store.as_ref(),
        owner,
        app,
        30,
        json!({"tags": {"exp": "B"}, "node_packing_count": 4}),
    )
    .await;
    let b = |max: i64, extra: serde_json::Value| {
        let mut body = json!({"max_num_jobs": max, "filter_tags": {"exp": "B"},
                              "states": ["PREPROCESSED", "RESTART_READY"]});
        if let (Some(obj), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            obj.extend(extra.clone());
        }
        acquire(body)
    };
    let s = session(store.as_ref(), owner, site_id, None).await;
    let got = store
        .acquire_jobs(owner, s.id, &b(5, json!({})))
        .await
        .unwrap();
    let ids: Vec<i64> = got.iter().map(|j| j.id).collect();
    assert_eq!(ids, tagged[..5], "the first five by id");
    // Node packing over the tagged ones: 1.0 node holds four quarter-node jobs.
    let packed = b(
        100,
        json!({"max_aggregate_nodes": 1.0, "max_nodes_per_job": 1}),
    );
    let got = store.acquire_jobs(owner, s.id, &packed).await.unwrap();
    let ids: Vec<i64> = got.iter().map(|j| j.id).collect();
    assert_eq!(ids, tagged[5..9]);
    // A tag no job carries, and one only other jobs' candidates carry with it: nothing.
    let none = acquire(json!({"max_num_jobs": 10, "filter_tags": {"exp": "C"}}));
    assert!(store
        .acquire_jobs(owner, s.id, &none)
        .await
        .unwrap()
        .is_empty());
    let both = acquire(json!({"max_num_jobs": 10, "filter_tags": {"exp": "B", "x": "y"}}));
    assert!(store
        .acquire_jobs(owner, s.id, &both)
        .await
        .unwrap()
        .is_empty());
    // Four launchers take the other 21 between them, each once.
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        let spec = b(3, json!({}));
        tasks.push(tokio::spawn(async move {
            let s = session(store.as_ref(), owner, site_id, None).await;
            let mut got = Vec::new();
            loop {
                let batch = store.acquire_jobs(owner, s.id, &spec).await.unwrap();
                if batch.is_empty() {
                    break;
                }
                got.extend(batch.into_iter().map(|j| j.id));
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, tagged[9..], "every remaining tagged job, once");
}

pub async fn ending_a_session_times_out_running_jobs_and_unlocks_the_rest(store: &dyn Store) {
    let (owner, site_id, app) = world(store).await;
    let ids = make_runnable(store, owner, app, 3, json!({})).await;
    let bj = batch_job(store, owner, site_id, "serial").await;
    let s = session(store, owner, site_id, Some(bj.id)).await;
    let got = store.acquire_jobs(owner, s.id, &serial(10)).await.unwrap();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|j| j.batch_job_id == Some(bj.id)));
    let running = JobPatch::from_json(&json!({"state": "RUNNING"})).unwrap();
    store
        .update_jobs(owner, JobUpdate::One(ids[0], &running))
        .await
        .unwrap();
    // A locked job is skipped by delete.
    store.delete_job(owner, ids[1]).await.unwrap();
    assert!(store.get_job(owner, ids[1]).await.is_ok());

    let (intruder, _, _) = world(store).await;
    assert!(matches!(
        store.delete_session(intruder, s.id).await,
        Err(StoreError::NotFound)
    ));
    store.delete_session(owner, s.id).await.unwrap();
    let j0 = store.get_job(owner, ids[0]).await.unwrap();
    assert_eq!(
        (j0.state, j0.session_id, j0.batch_job_id),
        (JobState::RunTimeout, None, Some(bj.id))
    );
    let j1 = store.get_job(owner, ids[1]).await.unwrap();
    assert_eq!((j1.state, j1.session_id), (JobState::Preprocessed, None));
    assert!(matches!(
        store.tick_session(owner, s.id).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn stale_sessions_and_finished_batch_jobs_are_swept(store: &dyn Store) {
    let (owner, site_id, app) = world(store).await;
    let ids = make_runnable(store, owner, app, 1, json!({})).await;
    let bj = batch_job(store, owner, site_id, "mpi").await;
    let alive = session(store, owner, site_id, None).await;
    let in_bj = session(store, owner, site_id, Some(bj.id)).await;
    store
        .acquire_jobs(owner, in_bj.id, &serial(1))
        .await
        .unwrap();
    let past = balsam_types::time::now() - chrono::Duration::minutes(5);
    assert_eq!(store.sweep_sessions(Some(owner), past).await.unwrap(), 0);
    let finished = BatchJobPatch::from_json(&json!({"state": "finished"})).unwrap();
    store
        .update_batch_jobs(owner, &[(bj.id, finished)])
        .await
        .unwrap();
    assert_eq!(store.sweep_sessions(None, past).await.unwrap(), 1);
    assert_eq!(store.get_job(owner, ids[0]).await.unwrap().session_id, None);
    let left: Vec<i64> = store
        .list_sessions(owner, &[])
        .await
        .unwrap()
        .results
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(left, vec![alive.id]);
    let future = balsam_types::time::now() + chrono::Duration::seconds(1);
    assert_eq!(store.sweep_sessions(Some(owner), future).await.unwrap(), 1);
}

pub async fn batch_jobs_follow_upstreams_update_rules(store: &dyn Store) {
    let (owner, site_id, _) = world(store).await;
    let (other, other_site, _) = world(store).await;
    let create =
        BatchJobCreate::from_json(&json!({"site_id": site_id, "project": "p", "queue": "q",
        "num_nodes": 2, "wall_time_min": 10, "job_mode": "mpi", "filter_tags": {"a": 1}}))
        .unwrap();
    let bj = store.create_batch_job(owner, &create).await.unwrap();
    assert_eq!(
        (bj.state.as_str(), bj.scheduler_id),
        ("pending_submission", None)
    );
    let foreign = BatchJobCreate {
        site_id: other_site,
        ..create.clone()
    };
    assert!(matches!(
        store.create_batch_job(owner, &foreign).await,
        Err(StoreError::Invalid(_))
    ));

    let p = |v| BatchJobPatch::from_json(&v).unwrap();
    let out = store
        .update_batch_jobs(
            owner,
            &[(
                bj.id,
                p(json!({"state": "queued", "scheduler_id": 77,
            "status_info": {"submit_time": 1}, "start_time": "2024-01-01T00:00:00"})),
            )],
        )
        .await
        .unwrap();
    assert_eq!(
        (out[0].state.as_str(), out[0].scheduler_id),
        ("queued", Some(77))
    );
    store
        .update_batch_jobs(owner, &[(bj.id, p(json!({"state": "pending_deletion"})))])
        .await
        .unwrap();
    let out = store
        .update_batch_jobs(
            owner,
            &[(bj.id, p(json!({"state": "running", "scheduler_id": 78})))],
        )
        .await
        .unwrap();
    assert_eq!(
        (out[0].state.as_str(), out[0].scheduler_id),
        ("pending_deletion", Some(78))
    );
    let out = store
        .update_batch_jobs(owner, &[(bj.id, p(json!({"state": "finished"})))])
        .await
        .unwrap();
    assert_eq!(out[0].state, "finished");
    assert_eq!(store.get_batch_job(owner, bj.id).await.unwrap(), out[0]);

    assert!(matches!(
        store
            .update_batch_jobs(other, &[(bj.id, p(json!({"state": "queued"})))])
            .await,
        Err(StoreError::NotFound)
    ));
    let q = BatchJobQuery {
        filter_tags: vec![("a".into(), "1".into())],
        scheduler_id: Some(78),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_batch_jobs(owner, &q, Page::default())
            .await
            .unwrap()
            .count,
        1
    );
    assert_eq!(
        store
            .list_batch_jobs(other, &BatchJobQuery::default(), Page::default())
            .await
            .unwrap()
            .count,
        0
    );
    store.delete_batch_job(owner, bj.id).await.unwrap();
    assert!(matches!(
        store.get_batch_job(owner, bj.id).await,
        Err(StoreError::NotFound)
    ));
}

/// Deleting a BatchJob unlinks the jobs and Sessions that named it (they stay), and a
/// deleted BatchJob cannot be named again. On PostgreSQL the unlinking is a statement
/// trigger, not a foreign key's `ON DELETE SET NULL` (migration 0015), so this pins it.
pub async fn deleting_a_batch_job_or_session_unlinks_their_jobs(store: &dyn Store) {
    let (owner, site_id, app) = world(store).await;
    let ids = make_runnable(store, owner, app, 3, json!({})).await;
    let bj = batch_job(store, owner, site_id, "serial").await;
    let s = session(store, owner, site_id, Some(bj.id)).await;
    let got = store.acquire_jobs(owner, s.id, &serial(2)).await.unwrap();
    assert_eq!(got.len(), 2);
    let named = JobPatch::from_json(&json!({"batch_job_id": bj.id})).unwrap();
    store
        .update_jobs(owner, JobUpdate::One(ids[2], &named))
        .await
        .unwrap();
    for id in &ids {
        assert_eq!(
            store.get_job(owner, *id).await.unwrap().batch_job_id,
            Some(bj.id)
        );
    }

    store.delete_batch_job(owner, bj.id).await.unwrap();
    for id in &ids {
        let job = store.get_job(owner, *id).await.unwrap();
        assert_eq!(
            job.batch_job_id, None,
            "job {id} still names the deleted BatchJob"
        );
    }
    let s_now = store.list_sessions(owner, &[s.id]).await.unwrap().results;
    assert_eq!(s_now.len(), 1);
    assert_eq!(s_now[0].batch_job_id, None);
    assert!(matches!(
        store
            .update_jobs(owner, JobUpdate::One(ids[2], &named))
            .await,
        Err(StoreError::Invalid(_))
    ));

    // The acquired jobs are held by the Session until it goes.
    let held: Vec<i64> = got.iter().map(|j| j.id).collect();
    for id in &held {
        assert_eq!(
            store.get_job(owner, *id).await.unwrap().session_id,
            Some(s.id)
        );
    }
    store.delete_session(owner, s.id).await.unwrap();
    for id in &held {
        assert_eq!(store.get_job(owner, *id).await.unwrap().session_id, None);
    }
}

/// A BatchJob deleted while a PATCH names it leaves no job naming it: either the PATCH
/// finds no BatchJob (400), or the deletion waits for the PATCH's commit and unlinks its
/// jobs too. On PostgreSQL the PATCH locks each BatchJob it names (`FOR KEY SHARE`) in
/// place of the per-row foreign key migration 0015 dropped, so this pins the lock.
pub async fn a_batch_job_deleted_during_a_patch_leaves_no_job_naming_it(store: Arc<dyn Store>) {
    let (owner, site_id, app) = world(store.as_ref()).await;
    let ids = make_runnable(store.as_ref(), owner, app, 200, json!({})).await;
    for round in 0..25u64 {
        let bj = batch_job(store.as_ref(), owner, site_id, "serial").await.id;
        let q = JobQuery {
            ids: ids.clone(),
            ..Default::default()
        };
        let p = JobPatch::from_json(&json!({"batch_job_id": bj})).unwrap();
        let lag = std::time::Duration::from_micros(500 * (round % 4));
        let (patched, delete) = {
            let (a, b) = (store.clone(), store.clone());
            race(
                async move { a.update_jobs(owner, JobUpdate::Query(&q, &p)).await },
                async move { b.delete_batch_job(owner, bj).await },
                lag,
            )
            .await
        };
        match patched {
            Ok(_) | Err(StoreError::Invalid(_)) => {}
            Err(other) => panic!("patch: {other:?}"),
        }
        delete.unwrap();
        let q = JobQuery {
            ids: ids.clone(),
            ..Default::default()
        };
        let page = store
            .list_jobs(
                owner,
                &q,
                Page {
                    limit: 500,
                    offset: 0,
                },
            )
            .await
            .unwrap();
        let naming = page
            .results
            .iter()
            .filter(|j| j.batch_job_id == Some(bj))
            .count();
        assert_eq!(
            naming, 0,
            "round {round}: {naming} jobs name the deleted BatchJob {bj}"
        );
    }
}

/// A BatchJob of one node for five minutes at the owner's Site, in `job_mode`.
async fn batch_job(store: &dyn Store, owner: i64, site_id: i64, job_mode: &str) -> BatchJob {
    let create = BatchJobCreate::from_json(&json!({"site_id": site_id, "project": "p",
        "queue": "q", "num_nodes": 1, "wall_time_min": 5, "job_mode": job_mode}))
    .unwrap();
    store.create_batch_job(owner, &create).await.unwrap()
}

/// A Session at the owner's Site, in `batch_job_id` if given.
async fn session(
    store: &dyn Store,
    owner: i64,
    site_id: i64,
    batch_job_id: Option<i64>,
) -> Session {
    let create = SessionCreate {
        site_id,
        batch_job_id,
    };
    store.create_session(owner, &create).await.unwrap()
}
