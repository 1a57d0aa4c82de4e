//! The workflow: submits jobs at `--rate` with `POST /jobs/` (bulk, like
//! `Job.objects.bulk_create`), some with parents and some with transfers, and decides each
//! job's fate (succeed, error then retry, error then fail).

use crate::util::{lock, sleep_or_stop};
use crate::world::{Fate, JobMeta, SiteInfo, World};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

const TICK: Duration = Duration::from_millis(500);
const MAX_PER_CALL: u64 = 5000;
/// Recent jobs that may become parents (never ones fated to fail: their children would
/// wait in AWAITING_PARENTS forever).
const PARENT_POOL: usize = 64;

pub async fn run(world: Arc<World>) {
    let args = world.args.clone();
    let mut stop = world.stop.clone();
    let mut rng = match args.seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => StdRng::from_entropy(),
    };
    let n_sites = world.sites.len();
    let limit = args.jobs_per_site;
    let mut created = vec![0u64; n_sites];
    let mut pools: Vec<VecDeque<i64>> = vec![VecDeque::new(); n_sites];
    let mut budget = 0.0f64;
    let mut last = Instant::now();
    let mut next_site = 0usize;
    loop {
        let remaining = |i: usize, created: &[u64]| {
            if limit == 0 {
                u64::MAX
            } else {
                limit.saturating_sub(created[i])
            }
        };
        let mut want = vec![0u64; n_sites];
        if args.rate <= 0.0 {
            for (i, w) in want.iter_mut().enumerate() {
                *w = remaining(i, &created).min(1000);
            }
        } else {
            budget += args.rate * last.elapsed().as_secs_f64();
            last = Instant::now();
            let mut n = budget.floor() as u64;
            budget -= n as f64;
            // Round-robin over the Sites that still have jobs to submit.
            while n > 0 && (0..n_sites).any(|i| want[i] < remaining(i, &created)) {
                let i = next_site % n_sites;
                next_site += 1;
                if want[i] < remaining(i, &created) {
                    want[i] += 1;
                    n -= 1;
                }
            }
        }
        for site in &world.sites {
            let mut n = want[site.index];
            while n > 0 && !world.stopping() {
                let chunk = n.min(MAX_PER_CALL);
                n -= chunk;
                let made = submit(
                    &world,
                    site,
                    &mut rng,
                    created[site.index],
                    chunk,
                    &mut pools[site.index],
                )
                .await;
                created[site.index] += made;
            }
        }
        if limit > 0 && (0..n_sites).all(|i| remaining(i, &created) == 0) {
            break;
        }
        if sleep_or_stop(&mut stop, TICK).await {
            break;
        }
    }
    world.creation_done.store(true, Ordering::Relaxed);
}

/// Submits `n` jobs at one Site in one call; returns how many were created.
async fn submit(
    world: &World,
    site: &SiteInfo,
    rng: &mut StdRng,
    first: u64,
    n: u64,
    pool: &mut VecDeque<i64>,
) -> u64 {
    let mut bodies = Vec::with_capacity(n as usize);
    let mut fates = Vec::with_capacity(n as usize);
    for k in 0..n {
        let (body, fate) = job_body(world, site, rng, first + k, pool);
        bodies.push(body);
        fates.push(fate);
    }
    let body = Value::Array(bodies);
    let Ok(reply) = world
        .api
        .call("POST /jobs/", Method::POST, "jobs/", Some(&body))
        .await
    else {
        return 0;
    };
    let Some(jobs) = reply.as_array() else {
        world
            .console
            .warn("POST /jobs/ did not answer with an array of jobs");
        return 0;
    };
    let mut metas = lock(&world.jobs);
    for (job, fate) in jobs.iter().zip(fates) {
        let Some(id) = job["id"].as_i64() else {
            continue;
        };
        metas.insert(id, JobMeta { fate, runs: 0 });
        if fate != Fate::ErrorThenFail {
            pool.push_back(id);
            if pool.len() > PARENT_POOL {
                pool.pop_front();
            }
        }
    }
    drop(metas);
    world
        .created
        .fetch_add(jobs.len() as u64, Ordering::Relaxed);
    jobs.len() as u64
}

fn job_body(
    world: &World,
    site: &SiteInfo,
    rng: &mut StdRng,
    seq: u64,
    pool: &VecDeque<i64>,
) -> (Value, Fate) {
    let args = &world.args;
    let run = &world.run_tag;
    let fate = if rng.gen_bool(args.failure_ratio) {
        if rng.gen_bool(args.retry_ratio) {
            Fate::ErrorThenRetry
        } else {
            Fate::ErrorThenFail
        }
    } else {
        Fate::Succeed
    };
    let with_transfers = rng.gen_bool(args.transfer_ratio);
    let python = !with_transfers && rng.gen_bool(0.5);
    let kind = if python {
        "python"
    } else if with_transfers {
        "shell-xfer"
    } else {
        "shell"
    };
    // Mostly single-node jobs, some packed several per node, some MPI-only (several
    // ranks or two nodes: only MPI-mode launchers take them).
    let (num_nodes, ranks_per_node, node_packing_count) = match rng.gen_range(0..100) {
        0..=54 => (1, 1, 1),
        55..=79 => (1, 1, 4),
        80..=91 => (1, 4, 1),
        _ => (2, 2, 1),
    };
    // Some jobs declare a wall time; never more than half a BatchJob's, or no launcher
    // would ever take them.
    let wall_time_min = match [0, 0, 5, 10][rng.gen_range(0..4)] {
        w if w <= args.wall_time_min / 2 => w,
        _ => 0,
    };
    let mut parent_ids = Vec::new();
    if !pool.is_empty() && rng.gen_bool(args.chain_ratio) {
        let n = if rng.gen_bool(0.2) { 2 } else { 1 };
        for _ in 0..n {
            let p = pool[rng.gen_range(0..pool.len())];
            if !parent_ids.contains(&p) {
                parent_ids.push(p);
            }
        }
    }
    let mut transfers = json!({});
    if with_transfers {
        let remote = format!("/data/sim/{run}/{}/{seq:05}", site.name);
        transfers = json!({
            "input": {"location_alias": "archive", "path": format!("{remote}/input.dat")},
            "output": {
                "location_alias": if rng.gen_bool(0.5) { "archive" } else { "laptop" },
                "path": format!("{remote}/output.dat"),
            },
        });
    }
    let (app_id, serialized_parameters, data) = if python {
        let x = rng.gen_range(1..1000);
        (
            site.python_app,
            // Stands in for the base64 dill payload the SDK sends.
            format!("gASVsim{x:04}lIwBeJRLAYwBeZRLAnUu"),
            json!({"x": x}),
        )
    } else {
        (
            site.shell_app,
            String::new(),
            json!({"steps": rng.gen_range(10..10_000)}),
        )
    };
    let body = json!({
        "workdir": format!("sim/{run}/{}/{kind}-{seq:05}", site.name),
        "tags": {"sim_run": run, "kind": kind, "site": site.name},
        "serialized_parameters": serialized_parameters,
        "data": data,
        "return_code": null,
        "num_nodes": num_nodes,
        "ranks_per_node": ranks_per_node,
        "threads_per_rank": 1,
        "threads_per_core": 1,
        "launch_params": {},
        "gpus_per_rank": 0,
        "node_packing_count": node_packing_count,
        "wall_time_min": wall_time_min,
        "app_id": app_id,
        "parent_ids": parent_ids,
        "transfers": transfers,
    });
    (body, fate)
}
