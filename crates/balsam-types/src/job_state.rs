//! Job states and the server's part of the state machine: the automatic rewrites of a
//! requested state (READY → STAGED_IN, POSTPROCESSED/STAGED_OUT → JOB_FINISHED), lock
//! release, and the LogEvent data. The server never refuses a transition (upstream
//! clients and tests depend on free transitions); it only rewrites them.
//!
//! Repetition note: every body is validated with the same steps on purpose (`Cx` fields,
//! required or optional, coerced as pydantic v1 does); what repeats is that pattern with
//! this type's fields.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A Balsam job state.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    Created,
    AwaitingParents,
    Ready,
    StagedIn,
    Preprocessed,
    Running,
    RunDone,
    RunError,
    RunTimeout,
    RestartReady,
    Postprocessed,
    StagedOut,
    JobFinished,
    Failed,
}

impl JobState {
    /// Every state, in upstream's declaration order.
    pub const ALL: [JobState; 14] = [
        JobState::Created,
        JobState::AwaitingParents,
        JobState::Ready,
        JobState::StagedIn,
        JobState::Preprocessed,
        JobState::Running,
        JobState::RunDone,
        JobState::RunError,
        JobState::RunTimeout,
        JobState::RestartReady,
        JobState::Postprocessed,
        JobState::StagedOut,
        JobState::JobFinished,
        JobState::Failed,
    ];

    /// The wire name, e.g. `"RUN_DONE"`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Created => "CREATED",
            JobState::AwaitingParents => "AWAITING_PARENTS",
            JobState::Ready => "READY",
            JobState::StagedIn => "STAGED_IN",
            JobState::Preprocessed => "PREPROCESSED",
            JobState::Running => "RUNNING",
            JobState::RunDone => "RUN_DONE",
            JobState::RunError => "RUN_ERROR",
            JobState::RunTimeout => "RUN_TIMEOUT",
            JobState::RestartReady => "RESTART_READY",
            JobState::Postprocessed => "POSTPROCESSED",
            JobState::StagedOut => "STAGED_OUT",
            JobState::JobFinished => "JOB_FINISHED",
            JobState::Failed => "FAILED",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|state| state.as_str() == s)
    }

    /// Every wire name, for enum error messages.
    pub fn names() -> Vec<&'static str> {
        JobState::ALL.iter().map(|s| s.as_str()).collect()
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the server does when a job is asked to move to `requested`.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The state actually stored.
    pub to: JobState,
    /// The LogEvent's `data`: the client's `state_data`, plus a `message` on rewrites.
    pub data: Map<String, Value>,
    /// The launcher's lock is released on every change except into RUNNING.
    pub release_lock: bool,
    /// Stage-out items waiting for the job (`awaiting_job`) become `pending`.
    pub activate_stage_outs: bool,
}

/// The transfer situation of one job, as far as transitions care.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransferSummary {
    /// Every stage-in item is `done` (vacuously true without any).
    pub stage_ins_done: bool,
    /// Every stage-out item is `done` (vacuously true without any).
    pub stage_outs_done: bool,
}

/// Computes the effect of requesting `requested` for a job in `current`; `None` when the
/// state does not change (no LogEvent, lock untouched, no children processing).
pub fn transition(
    current: JobState,
    requested: JobState,
    transfers: TransferSummary,
    state_data: Map<String, Value>,
) -> Option<Transition> {
    if requested == current {
        return None;
    }
    let mut data = state_data;
    let mut activate_stage_outs = false;
    let to = match requested {
        JobState::Ready if transfers.stage_ins_done => {
            data.insert("message".into(), "Skipped stage in".into());
            JobState::StagedIn
        }
        JobState::Postprocessed if transfers.stage_outs_done => {
            data.insert("message".into(), "Skipped stage out".into());
            JobState::JobFinished
        }
        JobState::Postprocessed => {
            activate_stage_outs = true;
            JobState::Postprocessed
        }
        JobState::StagedOut => JobState::JobFinished,
        other => other,
    };
    Some(Transition {
        to,
        data,
        release_lock: requested != JobState::Running,
        activate_stage_outs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all_done() -> TransferSummary {
        TransferSummary {
            stage_ins_done: true,
            stage_outs_done: true,
        }
    }

    #[test]
    fn requesting_the_current_state_changes_nothing() {
        assert_eq!(
            transition(JobState::Running, JobState::Running, all_done(), Map::new()),
            None
        );
    }

    #[test]
    fn ready_skips_to_staged_in_when_every_stage_in_is_done() {
        let t = transition(
            JobState::AwaitingParents,
            JobState::Ready,
            all_done(),
            Map::new(),
        )
        .unwrap();
        assert_eq!(t.to, JobState::StagedIn);
        assert_eq!(
            Value::Object(t.data),
            json!({"message": "Skipped stage in"})
        );
        let pending = TransferSummary {
            stage_ins_done: false,
            stage_outs_done: true,
        };
        let t = transition(
            JobState::AwaitingParents,
            JobState::Ready,
            pending,
            Map::new(),
        )
        .unwrap();
        assert_eq!(t.to, JobState::Ready);
        assert!(t.data.is_empty());
    }

    #[test]
    fn postprocessed_finishes_or_activates_stage_outs() {
        let t = transition(
            JobState::RunDone,
            JobState::Postprocessed,
            all_done(),
            Map::new(),
        )
        .unwrap();
        assert_eq!(
            (t.to, t.activate_stage_outs),
            (JobState::JobFinished, false)
        );
        let waiting = TransferSummary {
            stage_ins_done: true,
            stage_outs_done: false,
        };
        let t = transition(
            JobState::RunDone,
            JobState::Postprocessed,
            waiting,
            Map::new(),
        )
        .unwrap();
        assert_eq!(
            (t.to, t.activate_stage_outs),
            (JobState::Postprocessed, true)
        );
    }

    #[test]
    fn staged_out_is_stored_as_finished_whatever_the_transfers() {
        let none = TransferSummary::default();
        let t = transition(
            JobState::Postprocessed,
            JobState::StagedOut,
            none,
            Map::new(),
        )
        .unwrap();
        assert_eq!(t.to, JobState::JobFinished);
    }

    #[test]
    fn only_running_keeps_the_lock_and_state_data_is_kept() {
        let data: Map<String, Value> = json!({"num_nodes": 1.0}).as_object().unwrap().clone();
        let t = transition(
            JobState::Preprocessed,
            JobState::Running,
            all_done(),
            data.clone(),
        )
        .unwrap();
        assert!(!t.release_lock);
        assert_eq!(t.data, data);
        let t = transition(JobState::Running, JobState::RunDone, all_done(), Map::new()).unwrap();
        assert!(t.release_lock);
    }

    #[test]
    fn names_round_trip() {
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobState::parse("running"), None);
    }
}
