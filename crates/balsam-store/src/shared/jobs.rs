//! Job-query helpers both backends use.

use balsam_types::job::JobOrdering;
use balsam_types::{Id, Job};
use std::collections::HashMap;

/// The `ORDER BY` list of a job page: the requested key, then ascending id, as the spec
/// says (balsam-api.md §1.5, checked by the conformance suite). Each key is an index's
/// order (`jobs_owner_last_update_idx (owner_id, last_update, id)`, `jobs_owner_state_idx
/// (owner_id, state, id)`, `jobs_owner_id_idx (owner_id, id)`), read forwards or
/// backwards; a descending key sorts only within ties (PostgreSQL's incremental sort:
/// one bulk update's jobs share a `last_update`), never the owner's whole job set.
pub(crate) fn job_order_by(ordering: Option<(JobOrdering, bool)>) -> &'static str {
    match ordering {
        None | Some((JobOrdering::Id, false)) => "jobs.id ASC",
        Some((JobOrdering::Id, true)) => "jobs.id DESC",
        Some((JobOrdering::LastUpdate, false)) => "jobs.last_update ASC, jobs.id ASC",
        Some((JobOrdering::LastUpdate, true)) => "jobs.last_update DESC, jobs.id ASC",
        Some((JobOrdering::State, false)) => "jobs.state ASC, jobs.id ASC",
        Some((JobOrdering::State, true)) => "jobs.state DESC, jobs.id ASC",
        Some((JobOrdering::Workdir, false)) => "jobs.workdir ASC, jobs.id ASC",
        Some((JobOrdering::Workdir, true)) => "jobs.workdir DESC, jobs.id ASC",
    }
}

/// Orders fetched rows like `ids`.
pub(crate) fn in_order_of(ids: &[Id], rows: Vec<Job>) -> Vec<Job> {
    let mut by_id: HashMap<Id, Job> = rows.into_iter().map(|j| (j.id, j)).collect();
    ids.iter().filter_map(|id| by_id.remove(id)).collect()
}
