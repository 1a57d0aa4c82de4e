//! A launcher inside one running BatchJob (MPI or serial mode): finds its BatchJob, opens
//! a Session, acquires runnable jobs about once a (simulated) second with the mode's
//! acquire body, "runs" them on its nodes, reports RUNNING / RUN_DONE / RUN_ERROR through
//! the bulk status updater, ticks, and at the end times out what still runs
//! (RUN_TIMEOUT) and deletes its Session.

use crate::api::query;
use crate::updater::Updater;
use crate::util::{lock, now_iso};
use crate::world::{Fate, SiteInfo, World};
use rand::Rng;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

pub struct LaunchSpec {
    pub scheduler_id: i64,
    pub num_nodes: u32,
    pub wall_time_min: i64,
    pub mpi: bool,
}

/// The real launcher's `max_concurrent_mpiruns`.
const MAX_CONCURRENT_MPIRUNS: usize = 1000;
/// Serial mode: workers per node, and jobs prefetched per worker.
const SERIAL_WORKERS_PER_NODE: usize = 4;
const SERIAL_PREFETCH_PER_WORKER: usize = 64;
/// Simulated seconds without any job before the launcher gives its allocation back.
const IDLE_TTL_SECS: f64 = 120.0;
const EPS: f64 = 1e-9;

struct Waiting {
    id: i64,
    app_id: i64,
    num_nodes: u32,
    node_packing_count: u32,
}

struct Running {
    id: i64,
    ends: Instant,
    placement: Vec<(usize, f64)>,
    error: Option<i64>,
}

pub async fn run(
    world: Arc<World>,
    site: SiteInfo,
    spec: LaunchSpec,
    mut kill: watch::Receiver<bool>,
) {
    let api = &world.api;
    let clock = world.clock;
    // Warm the App cache, find our BatchJob, open the Session.
    api.warm_app_cache(site.id).await;
    let batch_job_id = api
        .call(
            "GET /batch-jobs/",
            Method::GET,
            &format!(
                "batch-jobs/?{}",
                query(&[
                    ("site_id", site.id.to_string()),
                    ("scheduler_id", spec.scheduler_id.to_string()),
                    ("limit", "100000".into()),
                    ("offset", "0".into()),
                ])
            ),
            None,
        )
        .await
        .ok()
        .and_then(|page| page["results"].get(0).and_then(|b| b["id"].as_i64()));
    let body = json!({"site_id": site.id, "batch_job_id": batch_job_id});
    let Ok(session) = api
        .call("POST /sessions/", Method::POST, "sessions/", Some(&body))
        .await
    else {
        return;
    };
    let Some(session_id) = session["id"].as_i64() else {
        world.console.warn("POST /sessions/ answered without an id");
        return;
    };
    let session_path = format!("sessions/{session_id}");
    api.tick_session(session_id).await;

    let mut stop = world.stop.clone();
    let started = Instant::now();
    let deadline = started + clock.sim(spec.wall_time_min as f64 * 60.0);
    let margin = clock.sim(60.0);
    let period = clock.period(1.0);
    // Ticks keep the session alive (it expires after minutes of real time): no need
    // to tick more than once a real second, however fast the simulation.
    let tick_every = clock.period(60.0).max(std::time::Duration::from_secs(1));
    let idle_ttl = clock.sim(IDLE_TTL_SECS);
    let mut last_tick = Instant::now();
    let mut last_busy = Instant::now();
    let n_nodes = spec.num_nodes.max(1) as usize;
    let mut nodes = vec![1.0f64; n_nodes];
    let workers = n_nodes * SERIAL_WORKERS_PER_NODE;
    let mut waiting: Vec<Waiting> = Vec::new();
    let mut running: Vec<Running> = Vec::new();
    let mut updater = Updater::default();

    loop {
        let now = Instant::now();
        // Runs that ended.
        let mut i = 0;
        while i < running.len() {
            if running[i].ends <= now {
                let r = running.swap_remove(i);
                for (node, used) in &r.placement {
                    nodes[*node] += used;
                }
                updater.push(match r.error {
                    None => json!({
                        "id": r.id, "state": "RUN_DONE", "state_timestamp": now_iso(),
                        "state_data": {},
                    }),
                    Some(rc) => json!({
                        "id": r.id, "state": "RUN_ERROR", "state_timestamp": now_iso(),
                        "state_data": {
                            "returncode": rc,
                            "error": format!("simulate: step {}: numerical instability (exit {rc})", rc * 7),
                        },
                    }),
                });
            } else {
                i += 1;
            }
        }
        // Start what fits.
        let mut k = 0;
        while k < waiting.len() {
            let placement = if spec.mpi {
                place(&mut nodes, &waiting[k])
            } else if running.len() < workers {
                Some(Vec::new())
            } else {
                None
            };
            match placement {
                Some(placement) => {
                    let w = waiting.remove(k);
                    running.push(start(&world, &mut updater, &w, placement));
                }
                None if spec.mpi => k += 1,
                None => break,
            }
        }
        if !running.is_empty() || !waiting.is_empty() {
            last_busy = now;
        }

        let remaining = deadline.saturating_duration_since(now);
        let out_of_time = remaining <= margin;
        let idle = now.duration_since(last_busy) >= idle_ttl;
        if *stop.borrow() || *kill.borrow() || out_of_time || idle {
            break;
        }

        // Acquire.
        let minutes_left = clock.to_sim(remaining) / 60.0;
        let acquire = if spec.mpi {
            let free: f64 = nodes.iter().sum();
            let idle_nodes = nodes.iter().filter(|f| **f >= 1.0 - EPS).count();
            (waiting.is_empty() && free >= 0.01).then(|| {
                json!({
                    "max_num_jobs": MAX_CONCURRENT_MPIRUNS.saturating_sub(running.len()).clamp(1, 2048),
                    "max_wall_time_min": minutes_left.round() as i64,
                    "max_nodes_per_job": idle_nodes,
                    "max_aggregate_nodes": (free * 1000.0).round() / 1000.0,
                    "serial_only": false, "sort_by": null, "filter_tags": {},
                    "states": ["RESTART_READY", "PREPROCESSED"], "app_ids": [],
                })
            })
        } else {
            let depth = workers * SERIAL_PREFETCH_PER_WORKER;
            (waiting.len() < depth).then(|| {
                json!({
                    "max_num_jobs": (depth - waiting.len()).min(2048),
                    "max_wall_time_min": minutes_left,
                    "max_nodes_per_job": 1, "max_aggregate_nodes": null,
                    "serial_only": true, "sort_by": null, "filter_tags": {},
                    "states": ["RESTART_READY", "PREPROCESSED"], "app_ids": [],
                })
            })
        };
        if let Some(body) = acquire {
            match api
                .call_quiet(
                    "POST /sessions/{id}",
                    Method::POST,
                    &session_path,
                    Some(&body),
                )
                .await
            {
                Ok(jobs) => {
                    for job in jobs.as_array().into_iter().flatten() {
                        if let Some(w) = waiting_job(job) {
                            waiting.push(w);
                        }
                    }
                }
                Err(e) if e.status() == Some(404) => {
                    world.api.stats.count_error("POST /sessions/{id}");
                    world.console.warn(&format!(
                        "{}: session {session_id} is gone (expired?); launcher exits",
                        site.name
                    ));
                    break;
                }
                Err(e) => {
                    if e.status().is_some_and(|s| s < 500) {
                        world.api.stats.count_error("POST /sessions/{id}");
                        world.console.warn(&format!("POST /sessions/{{id}}: {e}"));
                    }
                }
            }
        }
        updater.flush(&world).await;
        if last_tick.elapsed() >= tick_every {
            last_tick = Instant::now();
            api.tick_session(session_id).await;
        }
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = stop.wait_for(|s| *s) => {}
            _ = kill.wait_for(|s| *s) => {}
        }
    }

    // Shutdown: whatever still runs times out; acquired jobs not started are released
    // when the Session is deleted.
    for r in running.drain(..) {
        updater.push(json!({
            "id": r.id, "state": "RUN_TIMEOUT", "state_timestamp": now_iso(), "state_data": {},
        }));
    }
    updater.flush(&world).await;
    let _ = api
        .call("DELETE /sessions/{id}", Method::DELETE, &session_path, None)
        .await;
}

fn waiting_job(job: &Value) -> Option<Waiting> {
    Some(Waiting {
        id: job["id"].as_i64()?,
        app_id: job["app_id"].as_i64().unwrap_or_default(),
        num_nodes: job["num_nodes"].as_u64().unwrap_or(1).max(1) as u32,
        node_packing_count: job["node_packing_count"].as_u64().unwrap_or(1).max(1) as u32,
    })
}

/// MPI mode: whole idle nodes for multi-node jobs, a best-fit share of one node otherwise.
fn place(nodes: &mut [f64], job: &Waiting) -> Option<Vec<(usize, f64)>> {
    if job.num_nodes > 1 {
        let idle: Vec<usize> = (0..nodes.len())
            .filter(|&i| nodes[i] >= 1.0 - EPS)
            .take(job.num_nodes as usize)
            .collect();
        if idle.len() < job.num_nodes as usize {
            return None;
        }
        for &i in &idle {
            nodes[i] -= 1.0;
        }
        return Some(idle.into_iter().map(|i| (i, 1.0)).collect());
    }
    let share = 1.0 / f64::from(job.node_packing_count);
    let best = (0..nodes.len())
        .filter(|&i| nodes[i] + EPS >= share)
        .min_by(|&a, &b| nodes[a].total_cmp(&nodes[b]))?;
    nodes[best] -= share;
    Some(vec![(best, share)])
}

fn start(
    world: &World,
    updater: &mut Updater,
    w: &Waiting,
    placement: Vec<(usize, f64)>,
) -> Running {
    let runs_before = {
        let mut jobs = lock(&world.jobs);
        match jobs.get_mut(&w.id) {
            Some(meta) => {
                meta.runs += 1;
                Some((meta.fate, meta.runs - 1))
            }
            None => None,
        }
    };
    let fails = matches!(
        runs_before,
        Some((Fate::ErrorThenFail, _)) | Some((Fate::ErrorThenRetry, 0))
    );
    let mut rng = rand::thread_rng();
    let mut secs = if world.is_python_app(w.app_id) {
        rng.gen_range(30.0..120.0)
    } else {
        rng.gen_range(20.0..90.0)
    };
    let error = if fails {
        secs *= rng.gen_range(0.1..0.5);
        Some(rng.gen_range(1..128))
    } else {
        None
    };
    let footprint = if w.num_nodes > 1 {
        f64::from(w.num_nodes)
    } else {
        1.0 / f64::from(w.node_packing_count)
    };
    updater.push(json!({
        "id": w.id, "state": "RUNNING", "state_timestamp": now_iso(),
        "state_data": {"num_nodes": footprint},
    }));
    Running {
        id: w.id,
        ends: Instant::now() + world.clock.sim(secs),
        placement,
        error,
    }
}
