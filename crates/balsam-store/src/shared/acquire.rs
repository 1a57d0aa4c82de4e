//! What an acquire asks for, as both backends' acquire statements need it.

use balsam_types::{JobState, SessionAcquire};

/// Acquire order, unqualified (it orders a branch over `jobs` and the merged
/// candidates): by id without node packing, else upstream's packing orders. By id and the
/// default packing order are the orders of the acquire indexes (migration 0005);
/// long-large-first, rarely configured, sorts its candidates.
pub(crate) fn acquire_order(spec: &SessionAcquire) -> &'static str {
    match (spec.max_aggregate_nodes.is_some(), spec.sort_by.as_deref()) {
        (false, _) => "id",
        (true, Some("long_large_first")) => {
            "wall_time_min DESC, num_nodes DESC, node_packing_count DESC, id"
        }
        (true, _) => "num_nodes ASC, node_packing_count DESC, wall_time_min DESC, id",
    }
}

/// The requested states, each once and in a fixed order (one acquire branch each).
pub(crate) fn acquire_states(spec: &SessionAcquire) -> Vec<JobState> {
    let mut states = spec.states.clone();
    states.sort_by_key(|s| s.as_str());
    states.dedup();
    states
}

/// The acquire's `filter_tags` as `key:value` pairs (a non-string value matches "").
pub(crate) fn acquire_tags(spec: &SessionAcquire) -> Vec<(String, String)> {
    spec.filter_tags
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect()
}
