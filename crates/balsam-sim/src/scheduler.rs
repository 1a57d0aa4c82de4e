//! The scheduler service of one Site, with its queue maintainer and a fake HPC scheduler:
//! every sync period it lists the Site's active BatchJobs, submits the pending ones,
//! starts queued ones (spawning a launcher), reports finished ones, all with one
//! `PATCH /batch-jobs/` of the changed BatchJobs, keeps `--batch-jobs` BatchJobs in the
//! queue, and PUTs `backfill_windows`/`queued_jobs` to the Site (its heartbeat).

use crate::api::query;
use crate::launcher::{self, LaunchSpec};
use crate::util::{add, now_iso, sleep_or_stop};
use crate::world::{SiteInfo, World};
use rand::Rng;
use reqwest::Method;
use serde_json::{json, Map};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

const ACTIVE_STATES: [&str; 4] = [
    "pending_submission",
    "queued",
    "running",
    "pending_deletion",
];
const QUEUE: &str = "default";
const PROJECT: &str = "sim";
/// Nodes of the pretend machine, for the backfill windows.
const MACHINE_NODES: i64 = 128;

/// A BatchJob this scheduler submitted.
struct Local {
    scheduler_id: i64,
    num_nodes: u32,
    wall_time_min: i64,
    job_mode: String,
    submitted: Instant,
    starts_at: Instant,
    started: Option<(Instant, String)>,
    launcher: Option<(JoinHandle<()>, watch::Sender<bool>)>,
}

impl Local {
    fn launcher_done(&self) -> bool {
        self.launcher.as_ref().is_none_or(|(h, _)| h.is_finished())
    }
}

pub async fn run(world: Arc<World>, site: SiteInfo) {
    let mut stop = world.stop.clone();
    let period = world.clock.period(world.args.sync_period);
    let mut locals: HashMap<i64, Local> = HashMap::new();
    let mut submitted = 0u64;
    loop {
        sync(&world, &site, &mut locals, false).await;
        maintain_queue(&world, &site, &mut submitted).await;
        heartbeat(&world, &site, &locals).await;
        if sleep_or_stop(&mut stop, period).await {
            break;
        }
    }
    // Winding down: the launchers flush, time out their running jobs and delete their
    // sessions; then the allocations end.
    for local in locals.values_mut() {
        if let Some((handle, kill)) = local.launcher.as_mut() {
            let _ = kill.send(true);
            if tokio::time::timeout(Duration::from_secs(60), handle)
                .await
                .is_err()
            {
                world.console.warn(&format!(
                    "{}: a launcher did not stop within 60 s",
                    site.name
                ));
            }
        }
    }
    sync(&world, &site, &mut locals, true).await;
    heartbeat(&world, &site, &locals).await;
}

/// The Site's active BatchJobs matching `filters`, `limit` per page; `None` on failure.
async fn active_batch_jobs(
    world: &World,
    label: &'static str,
    mut filters: Vec<(&'static str, String)>,
    limit: &str,
) -> Option<serde_json::Value> {
    filters.extend(ACTIVE_STATES.iter().map(|s| ("state", (*s).to_owned())));
    filters.push(("limit", limit.into()));
    filters.push(("offset", "0".into()));
    let path = format!("batch-jobs/?{}", query(&filters));
    world.api.get(label, &path).await.ok()
}

async fn sync(world: &Arc<World>, site: &SiteInfo, locals: &mut HashMap<i64, Local>, last: bool) {
    let site_filter = vec![("site_id", site.id.to_string())];
    let Some(page) = active_batch_jobs(world, "GET /batch-jobs/", site_filter, "100000").await
    else {
        return;
    };
    let now = Instant::now();
    let mut changes = Vec::new();
    for bj in page["results"].as_array().into_iter().flatten() {
        let Some(id) = bj["id"].as_i64() else {
            continue;
        };
        let state = bj["state"].as_str().unwrap_or_default();
        let finished = |start: Option<&str>| {
            let mut c = json!({"id": id, "state": "finished", "end_time": now_iso()});
            if let Some(start) = start {
                c["start_time"] = json!(start);
            }
            c
        };
        match state {
            "pending_submission" => {
                if last || world.stopping() {
                    continue;
                }
                let scheduler_id = world
                    .next_scheduler_id
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let wait = rand::thread_rng().gen_range(10.0..60.0);
                locals.insert(
                    id,
                    Local {
                        scheduler_id,
                        num_nodes: bj["num_nodes"].as_u64().unwrap_or(1) as u32,
                        wall_time_min: bj["wall_time_min"].as_i64().unwrap_or(10),
                        job_mode: bj["job_mode"].as_str().unwrap_or("mpi").to_owned(),
                        submitted: now,
                        starts_at: now + world.clock.sim(wait),
                        started: None,
                        launcher: None,
                    },
                );
                changes.push(json!({
                    "id": id, "scheduler_id": scheduler_id, "state": "queued",
                    "status_info": {
                        "submit_script": format!("{}/qsubmit/qlaunch{id}.sh", world.args.site_path),
                        "submit_time": now_iso(),
                    },
                }));
            }
            "queued" => match locals.get_mut(&id) {
                // Not ours (left by an earlier run): gone from our scheduler.
                None => changes.push(finished(None)),
                Some(_) if last || world.stopping() => {
                    locals.remove(&id);
                    changes.push(finished(None));
                }
                Some(local) if now >= local.starts_at => {
                    let start = now_iso();
                    let (kill_tx, kill_rx) = watch::channel(false);
                    let spec = LaunchSpec {
                        scheduler_id: local.scheduler_id,
                        num_nodes: local.num_nodes,
                        wall_time_min: local.wall_time_min,
                        mpi: local.job_mode != "serial",
                    };
                    let handle =
                        tokio::spawn(launcher::run(world.clone(), site.clone(), spec, kill_rx));
                    local.launcher = Some((handle, kill_tx));
                    local.started = Some((now, start.clone()));
                    add(&world.batch_jobs_running, 1);
                    changes.push(json!({"id": id, "state": "running", "start_time": start}));
                }
                Some(_) => {}
            },
            "running" | "pending_deletion" => match locals.get(&id) {
                None => changes.push(finished(None)),
                Some(local) => {
                    if state == "pending_deletion" || last {
                        if let Some((_, kill)) = &local.launcher {
                            let _ = kill.send(true);
                        }
                    }
                    if local.launcher_done() {
                        if let Some(local) = locals.remove(&id) {
                            if local.started.is_some() {
                                add(&world.batch_jobs_running, -1);
                            }
                            changes.push(finished(local.started.as_ref().map(|s| s.1.as_str())));
                        }
                    }
                }
            },
            _ => {}
        }
    }
    if !changes.is_empty() {
        world
            .api
            .patch_all("PATCH /batch-jobs/", "batch-jobs/", changes)
            .await;
    }
}

/// The queue maintainer: one new BatchJob per period while fewer than the target are active.
async fn maintain_queue(world: &World, site: &SiteInfo, submitted: &mut u64) {
    if world.stopping() {
        return;
    }
    let filters = vec![
        ("site_id", site.id.to_string()),
        ("queue", QUEUE.to_owned()),
    ];
    let Some(page) = active_batch_jobs(world, "GET /batch-jobs/ (count)", filters, "0").await
    else {
        return;
    };
    if page["count"].as_u64().unwrap_or(0) >= world.args.batch_jobs as u64 {
        return;
    }
    // Alternate MPI and serial mode, starting with MPI (some jobs need it).
    let mode = if *submitted & 1 == 0 { "mpi" } else { "serial" };
    *submitted += 1;
    let body = json!({
        "project": PROJECT, "queue": QUEUE, "job_mode": mode, "filter_tags": {},
        "num_nodes": world.args.nodes, "wall_time_min": world.args.wall_time_min,
        "site_id": site.id,
    });
    let _ = world
        .api
        .call(
            "POST /batch-jobs/",
            Method::POST,
            "batch-jobs/",
            Some(&body),
        )
        .await;
}

/// `GET /sites/?id=S`, then always `PUT /sites/S` with the scheduler's view.
async fn heartbeat(world: &World, site: &SiteInfo, locals: &HashMap<i64, Local>) {
    if world
        .api
        .get(
            "GET /sites/",
            &format!("sites/?id={}&limit=100000&offset=0", site.id),
        )
        .await
        .is_err()
    {
        return;
    }
    let now = Instant::now();
    let mut queued = Map::new();
    let mut busy = 0i64;
    for local in locals.values() {
        let minutes = |d: Duration| (world.clock.to_sim(d) / 60.0) as i64;
        let (state, remaining, waited) = match &local.started {
            Some((start, _)) => {
                busy += i64::from(local.num_nodes);
                let used = minutes(now.duration_since(*start));
                ("running", (local.wall_time_min - used).max(0), 0)
            }
            None => (
                "queued",
                local.wall_time_min,
                minutes(now.duration_since(local.submitted)),
            ),
        };
        queued.insert(
            local.scheduler_id.to_string(),
            json!({
                "scheduler_id": local.scheduler_id, "state": state, "queue": QUEUE,
                "num_nodes": local.num_nodes, "wall_time_min": local.wall_time_min,
                "project": PROJECT, "time_remaining_min": remaining, "queued_time_min": waited,
            }),
        );
    }
    let mut windows = Vec::new();
    {
        let mut rng = rand::thread_rng();
        let free = (MACHINE_NODES - busy - rng.gen_range(0..MACHINE_NODES / 2)).max(0);
        if free > 0 {
            windows.push(json!({"num_nodes": free, "wall_time_min": rng.gen_range(5..30)}));
            windows.push(json!({"num_nodes": free / 2, "wall_time_min": rng.gen_range(30..120)}));
        }
    }
    let body = json!({
        "backfill_windows": {QUEUE: windows},
        "queued_jobs": queued,
    });
    let _ = world
        .api
        .call(
            "PUT /sites/{id}",
            Method::PUT,
            &format!("sites/{}", site.id),
            Some(&body),
        )
        .await;
}
