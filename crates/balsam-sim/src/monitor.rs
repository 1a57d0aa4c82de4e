//! The live progress line (job counts of the simulated Sites by state group, from the
//! server) and the `--until-done` check.

use crate::api::query;
use crate::world::World;
use reqwest::Method;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

const GROUPS: [(&str, &[&str]); 6] = [
    ("waiting", &["CREATED", "AWAITING_PARENTS", "READY"]),
    ("staged", &["STAGED_IN", "PREPROCESSED", "RESTART_READY"]),
    ("running", &["RUNNING"]),
    (
        "post",
        &[
            "RUN_DONE",
            "RUN_ERROR",
            "RUN_TIMEOUT",
            "POSTPROCESSED",
            "STAGED_OUT",
        ],
    ),
    ("finished", &["JOB_FINISHED"]),
    ("failed", &["FAILED"]),
];

pub async fn run(world: Arc<World>, done: oneshot::Sender<()>) {
    let mut done = Some(done);
    // Whether the server has the `GET /jobs/state-counts` extension (one cheap call);
    // otherwise one count query per state group, every other second.
    let mut state_counts: Option<bool> = None;
    let mut groups: Option<HashMap<&'static str, u64>> = None;
    let mut last_requests = world.api.stats.requests.load(Ordering::Relaxed);
    let mut last_at = Instant::now();
    let every = Duration::from_secs(world.args.progress_every.max(1));
    for round in 0u64.. {
        if state_counts != Some(false) || round % 2 == 0 {
            if let Some(g) = fetch_groups(&world, &mut state_counts).await {
                groups = Some(g);
            }
        }
        if world.args.until_done
            && world.creation_done.load(Ordering::Relaxed)
            && all_done(&world).await
        {
            if let Some(tx) = done.take() {
                let _ = tx.send(());
            }
        }
        let requests = world.api.stats.requests.load(Ordering::Relaxed);
        let rate = if round == 0 {
            None
        } else {
            Some((requests - last_requests) as f64 / last_at.elapsed().as_secs_f64().max(1e-3))
        };
        last_requests = requests;
        last_at = Instant::now();
        world
            .console
            .progress(line(&world, groups.as_ref(), rate), every);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn line(world: &World, groups: Option<&HashMap<&'static str, u64>>, rate: Option<f64>) -> String {
    let jobs = match groups {
        Some(g) => GROUPS
            .iter()
            .map(|(name, _)| format!("{name} {}", g.get(name).copied().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join("  "),
        None => "(no counts yet)".to_owned(),
    };
    let rate = rate.map_or_else(|| "-".to_owned(), |r| format!("{r:.0}"));
    format!(
        "[{:>6.1}s] submitted {} | Sites' jobs: {jobs} | batch jobs running {} | {rate} req/s | errors {}",
        world.seconds(),
        world.created.load(Ordering::Relaxed),
        world.batch_jobs_running.load(Ordering::Relaxed),
        world.api.stats.errors.load(Ordering::Relaxed),
    )
}

async fn fetch_groups(
    world: &World,
    state_counts: &mut Option<bool>,
) -> Option<HashMap<&'static str, u64>> {
    if *state_counts != Some(false) {
        match world
            .api
            .call_quiet(
                "GET /jobs/state-counts",
                Method::GET,
                "jobs/state-counts",
                None,
            )
            .await
        {
            Ok(rows) => {
                *state_counts = Some(true);
                let mut by_state: HashMap<String, u64> = HashMap::new();
                for row in rows.as_array().into_iter().flatten() {
                    let site = row["site_id"].as_i64();
                    if !world.sites.iter().any(|s| Some(s.id) == site) {
                        continue;
                    }
                    for (state, n) in row["counts"].as_object().into_iter().flatten() {
                        *by_state.entry(state.clone()).or_default() += n.as_u64().unwrap_or(0);
                    }
                }
                return Some(
                    GROUPS
                        .iter()
                        .map(|(name, states)| {
                            (
                                *name,
                                states
                                    .iter()
                                    .map(|s| by_state.get(*s).copied().unwrap_or(0))
                                    .sum(),
                            )
                        })
                        .collect(),
                );
            }
            Err(e) if e.status().is_some_and(|s| s < 500) => *state_counts = Some(false),
            Err(_) => return None,
        }
    }
    let mut out = HashMap::new();
    for (name, states) in GROUPS {
        let mut pairs: Vec<(&str, String)> = world
            .sites
            .iter()
            .map(|s| ("site_id", s.id.to_string()))
            .collect();
        pairs.extend(states.iter().map(|s| ("state", (*s).to_owned())));
        pairs.push(("limit", "0".into()));
        pairs.push(("offset", "0".into()));
        let page = world
            .api
            .get("GET /jobs/ (count)", &format!("jobs/?{}", query(&pairs)))
            .await
            .ok()?;
        out.insert(name, page["count"].as_u64().unwrap_or(0));
    }
    Some(out)
}

/// Every job of this run is JOB_FINISHED or FAILED (and there is at least one).
async fn all_done(world: &World) -> bool {
    let tag = format!("sim_run:{}", world.run_tag);
    let count = |extra: &[(&str, &str)]| {
        let mut pairs = vec![("tags", tag.as_str()), ("limit", "0"), ("offset", "0")];
        pairs.extend_from_slice(extra);
        let path = format!("jobs/?{}", query(&pairs));
        async move {
            world
                .api
                .get("GET /jobs/ (count)", &path)
                .await
                .ok()
                .and_then(|p| p["count"].as_u64())
        }
    };
    let Some(total) = count(&[]).await else {
        return false;
    };
    let Some(terminal) = count(&[("state", "JOB_FINISHED"), ("state", "FAILED")]).await else {
        return false;
    };
    total > 0 && terminal == total
}
