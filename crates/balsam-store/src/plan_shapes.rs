//! The hot query shapes whose plans are pinned on both backends (`postgres::plan_tests`,
//! `sqlite::plan_tests`): the SDK's and the Site agent's calls (`spec/client-usage.md`
//! §(c)), the web client's pages and the dashboard's LogEvent queries. Each names the
//! index it must read; docs/store-performance.md has the same table.
//!
//! The test table: owner 1 has `JOBS` jobs at Site 1 (70 % STAGED_IN, 20 % PREPROCESSED,
//! 10 % JOB_FINISHED, tags `kind` even/odd, one creation LogEvent each); owner 2 has 1 000
//! PREPROCESSED jobs at Site 3. Shapes that the maintained counts answer must not touch
//! `jobs` at all.
//!
//! Repetition note: each hot query shape is listed on its own, spelled out, so the plan
//! tests read as a table.

use balsam_types::{EventQuery, JobOrdering, JobQuery, JobState, Page, SessionAcquire};
use chrono::{TimeZone, Utc};
use serde_json::Map;

pub(crate) const JOBS: i64 = 200_000;

pub(crate) enum Shape {
    /// A page of `GET /jobs/`.
    JobPage(JobQuery, Page),
    /// The count of `GET /jobs/` (`limit=0`, and every page's `count`).
    JobCount(JobQuery),
    /// `POST /sessions/{id}` on Site 1 (its session is id 1).
    Acquire(SessionAcquire),
    /// A page of `GET /events/`.
    EventPage(EventQuery, Page),
}

pub(crate) struct PlanCase {
    pub name: &'static str,
    pub owner: i64,
    pub shape: Shape,
    /// The plan must read one of these indexes (the first is the one meant for the
    /// shape; with statistics the planner may rightly prefer another); empty: it must not
    /// read `jobs` at all.
    pub index: &'static [&'static str],
    /// A sort may see at most this many rows (the acquire's `LIMIT` times its branches;
    /// 0: no sort at all).
    pub max_sorted: i64,
}

fn page(limit: i64) -> Page {
    Page { limit, offset: 0 }
}

pub(crate) fn acquire(states: &[JobState]) -> SessionAcquire {
    SessionAcquire {
        max_num_jobs: 100,
        filter_tags: Map::new(),
        states: states.to_vec(),
        app_ids: Vec::new(),
        max_wall_time_min: None,
        max_nodes_per_job: Some(1),
        max_aggregate_nodes: None,
        serial_only: false,
        sort_by: None,
    }
}

pub(crate) fn cases() -> Vec<PlanCase> {
    let since = Utc.timestamp_opt(0, 0).single().expect("epoch");
    let mut packing = acquire(&[JobState::Preprocessed, JobState::RestartReady]);
    packing.max_aggregate_nodes = Some(1.0);
    packing.max_wall_time_min = Some(5);
    vec![
        PlanCase {
            name: "acquire, serial launcher (by id)",
            owner: 1,
            shape: Shape::Acquire(acquire(&[JobState::Preprocessed, JobState::RestartReady])),
            index: &["jobs_acquire_idx"],
            max_sorted: 200,
        },
        PlanCase {
            name: "acquire, processing service (four states)",
            owner: 1,
            shape: Shape::Acquire(acquire(&[
                JobState::StagedIn,
                JobState::RunDone,
                JobState::RunError,
                JobState::RunTimeout,
            ])),
            index: &["jobs_acquire_idx"],
            max_sorted: 400,
        },
        PlanCase {
            name: "acquire, MPI launcher (node packing)",
            owner: 1,
            shape: Shape::Acquire(packing),
            index: &["jobs_acquire_packing_idx"],
            max_sorted: 200,
        },
        PlanCase {
            name: "jobs by state, first page",
            owner: 1,
            shape: Shape::JobPage(
                JobQuery {
                    states: vec![JobState::StagedIn],
                    ..JobQuery::default()
                },
                page(100),
            ),
            index: &["jobs_owner_state_idx", "jobs_pkey"],
            max_sorted: 0,
        },
        PlanCase {
            name: "jobs by Site and state (CLI, file cleaner, elastic queue)",
            owner: 1,
            shape: Shape::JobPage(
                JobQuery {
                    site_ids: vec![1],
                    states: vec![JobState::JobFinished],
                    ..JobQuery::default()
                },
                page(180),
            ),
            index: &["jobs_owner_state_idx"],
            max_sorted: 0,
        },
        PlanCase {
            name: "jobs of a Site but one state (site_id, state__ne)",
            owner: 1,
            shape: Shape::JobPage(
                JobQuery {
                    site_ids: vec![1],
                    state_ne: Some(JobState::JobFinished),
                    ..JobQuery::default()
                },
                page(100),
            ),
            index: &["jobs_owner_id_idx", "jobs_pkey"],
            max_sorted: 0,
        },
        PlanCase {
            name: "jobs newest first (ordering=-last_update)",
            owner: 1,
            shape: Shape::JobPage(
                JobQuery {
                    ordering: Some((JobOrdering::LastUpdate, true)),
                    ..JobQuery::default()
                },
                page(100),
            ),
            index: &["jobs_owner_last_update_idx"],
            max_sorted: 200, // ties on the key are sorted by id (incremental sort)
        },
        PlanCase {
            name: "jobs by id descending, a small owner (web client)",
            owner: 2,
            shape: Shape::JobPage(
                JobQuery {
                    ordering: Some((JobOrdering::Id, true)),
                    ..JobQuery::default()
                },
                page(100),
            ),
            index: &["jobs_owner_id_idx"],
            max_sorted: 0,
        },
        PlanCase {
            name: "jobs by ids (SDK refresh / wait)",
            owner: 1,
            shape: Shape::JobPage(
                JobQuery {
                    ids: (1..=500).map(|i| i * 397).collect(),
                    ..JobQuery::default()
                },
                page(100_000),
            ),
            index: &["jobs_pkey"],
            max_sorted: 500,
        },
        PlanCase {
            name: "count by Site and state (CLI, queue maintainer)",
            owner: 1,
            shape: Shape::JobCount(JobQuery {
                site_ids: vec![1],
                states: vec![JobState::StagedIn],
                ..JobQuery::default()
            }),
            index: &[],
            max_sorted: 0,
        },
        PlanCase {
            name: "count of all jobs but one state (web client)",
            owner: 1,
            shape: Shape::JobCount(JobQuery {
                state_ne: Some(JobState::JobFinished),
                ..JobQuery::default()
            }),
            index: &[],
            max_sorted: 0,
        },
        PlanCase {
            name: "LogEvents into a state since T, newest first (dashboard)",
            owner: 1,
            shape: Shape::EventPage(
                EventQuery {
                    to_state: Some("STAGED_IN".into()),
                    timestamp_after: Some(since),
                    newest_first: true,
                    ..EventQuery::default()
                },
                page(100),
            ),
            index: &[
                "log_events_owner_to_state_idx",
                "log_events_owner_timestamp_idx",
            ],
            max_sorted: 200, // ties on the key are sorted by id (incremental sort)
        },
        PlanCase {
            name: "LogEvents out of a state since T (dashboard)",
            owner: 1,
            shape: Shape::EventPage(
                EventQuery {
                    from_state: Some("RUNNING".into()),
                    timestamp_after: Some(since),
                    newest_first: false,
                    ..EventQuery::default()
                },
                page(20_000),
            ),
            index: &[
                "log_events_owner_from_state_idx",
                "log_events_owner_timestamp_idx",
            ],
            max_sorted: 0,
        },
        PlanCase {
            name: "LogEvents newest first (events page)",
            owner: 1,
            shape: Shape::EventPage(
                EventQuery {
                    newest_first: true,
                    ..EventQuery::default()
                },
                page(100),
            ),
            index: &["log_events_owner_timestamp_idx"],
            max_sorted: 200, // ties on the key are sorted by id (incremental sort)
        },
    ]
}
