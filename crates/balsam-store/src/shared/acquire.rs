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

/// `(SELECT …)`: how many of `owner`'s jobs carry the rarest of `tags`, from the per-tag
/// counts (`job_tag_counts`, any state); 0 when one of them no job carries, and an acquire
/// filtered by them can end at once. Both backends' acquires read it first.
pub(crate) fn push_rarest_tag_count<'a, DB>(
    b: &mut sqlx::QueryBuilder<'a, DB>,
    owner: balsam_types::UserId,
    tags: &[(String, String)],
) where
    DB: sqlx::Database,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    b.push("(SELECT CAST(CASE WHEN count(*) = ")
        .push_bind(tags.len() as i64)
        .push(
            " THEN COALESCE(min(n), 0) ELSE 0 END AS BIGINT) FROM (SELECT sum(count) AS n \
             FROM job_tag_counts WHERE owner_id = ",
        )
        .push_bind(owner)
        .push(" AND (key, value) IN (");
    for (i, (k, v)) in tags.iter().enumerate() {
        if i > 0 {
            b.push(", ");
        }
        b.push("(")
            .push_bind(k.clone())
            .push(", ")
            .push_bind(v.clone())
            .push(")");
    }
    b.push(") GROUP BY key, value) AS t)");
}
