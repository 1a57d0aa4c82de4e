//! Which job counts the maintained per-(Site, state) counts answer.
//!
//! `job_state_counts` is kept exact by triggers in the same transaction as every job
//! insert, state or Site change and delete (migration 0002 on both backends), so a count
//! whose filters it can express is read from a handful of rows instead of counting the
//! matching jobs: the CLI's and the Site agent's `limit=0` counts, and every page count
//! filtered by Site and state only. `docs/store-performance.md` lists the count shapes.

use balsam_types::{JobQuery, JobState};

/// Whether `q`'s filters are all ones `job_state_counts` can answer: owner (always),
/// Sites, states and `state__ne`. Ordering does not change a count.
pub(crate) fn answered_by_state_counts(q: &JobQuery) -> bool {
    let JobQuery {
        ids,
        parent_ids,
        app_id,
        site_ids: _,
        batch_job_id,
        last_update_before,
        last_update_after,
        workdir_contains,
        states: _,
        state_ne: _,
        tags,
        pending_file_cleanup,
        ordering: _,
    } = q;
    ids.is_empty()
        && parent_ids.is_empty()
        && app_id.filter(|&a| a != 0).is_none()
        && batch_job_id.filter(|&b| b != 0).is_none()
        && last_update_before.is_none()
        && last_update_after.is_none()
        && workdir_contains.is_none()
        && tags.is_empty()
        && !pending_file_cleanup
}

/// The one `(key, value)` tag of a query filtered by that tag and nothing else (besides
/// its owner and ordering): the shape PostgreSQL's `job_tag_counts` answers.
pub(crate) fn one_tag_only(q: &JobQuery) -> Option<(&str, &str)> {
    match q.tags.as_slice() {
        [(k, v)] if tags_only(q) => Some((k.as_str(), v.as_str())),
        _ => None,
    }
}

/// Whether `q` filters by tags and by nothing else (besides its owner and ordering).
pub(crate) fn tags_only(q: &JobQuery) -> bool {
    !q.tags.is_empty()
        && answered_by_state_counts(&JobQuery {
            tags: Vec::new(),
            ..q.clone()
        })
        && q.site_ids.is_empty()
        && q.states.is_empty()
        && q.state_ne.is_none()
}

/// The `(key, value)` tag pairs of new jobs with how many carry each, in key order (the
/// order upserts take their rows in, so concurrent writers cannot deadlock): what a
/// create adds to `job_tag_counts`.
pub(crate) fn tag_pairs<'a>(
    tags: impl IntoIterator<Item = &'a serde_json::Map<String, serde_json::Value>>,
) -> (Vec<&'a str>, Vec<&'a str>, Vec<i64>) {
    let mut pairs: std::collections::BTreeMap<(&str, &str), i64> = Default::default();
    for map in tags {
        for (k, v) in map {
            if let Some(v) = v.as_str() {
                *pairs.entry((k.as_str(), v)).or_default() += 1;
            }
        }
    }
    let (mut keys, mut values, mut counts) = (Vec::new(), Vec::new(), Vec::new());
    for ((k, v), n) in pairs {
        keys.push(k);
        values.push(v);
        counts.push(n);
    }
    (keys, values, counts)
}

/// Groups `(site, state, count, node weight)` rows, ordered by site, into one entry per
/// Site; the RUNNING row's weight is the Site's `running_nodes`.
pub(crate) fn group_counts(
    rows: Vec<(i64, String, i64, f64)>,
) -> Vec<balsam_types::SiteStateCounts> {
    let mut out: Vec<balsam_types::SiteStateCounts> = Vec::new();
    for (site_id, state, count, nodes) in rows {
        if !matches!(out.last(), Some(last) if last.site_id == site_id) {
            out.push(balsam_types::SiteStateCounts {
                site_id,
                counts: Default::default(),
                running_nodes: 0.0,
            });
        }
        let Some(last) = out.last_mut() else { continue };
        if state == JobState::Running.as_str() {
            last.running_nodes = busy_nodes(nodes);
        }
        last.counts.insert(state, count);
    }
    out
}

/// A sum of node weights as the counters hold it: the `+w` and `-w` of every move leave
/// float residue (1/3 in, 1/3 out), so it is rounded to 3 decimals (as the utilisation
/// aggregate's `busy_now`) and never below zero.
pub(crate) fn busy_nodes(sum: f64) -> f64 {
    let rounded = (sum * 1000.0).round() / 1000.0;
    if rounded > 0.0 {
        rounded
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_and_state_filters_are_answered_and_others_are_not() {
        let mut q = JobQuery {
            site_ids: vec![3],
            states: vec![JobState::Running],
            state_ne: Some(JobState::JobFinished),
            ..JobQuery::default()
        };
        assert!(answered_by_state_counts(&q));
        q.app_id = Some(0); // "no app filter", as the handler passes it
        assert!(answered_by_state_counts(&q));
        q.tags = vec![("k".into(), "v".into())];
        assert!(!answered_by_state_counts(&q));
        let q = JobQuery {
            pending_file_cleanup: true,
            ..JobQuery::default()
        };
        assert!(!answered_by_state_counts(&q));
        let q = JobQuery {
            app_id: Some(7),
            ..JobQuery::default()
        };
        assert!(!answered_by_state_counts(&q));
    }
}
