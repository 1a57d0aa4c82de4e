//! The transfer service of one Site: every period it lists in-flight and pending
//! TransferItems, "submits" pending ones (`GET /jobs/?id=...` for the workdirs, then
//! `PATCH /transfers/` active with a task id) and reports finished tasks
//! (`PATCH /transfers/` done, with merged `transfer_info`). The server moves the jobs
//! READY → STAGED_IN and POSTPROCESSED → JOB_FINISHED.

use crate::api::query;
use crate::util::{now_iso, sleep_or_stop};
use crate::world::{SiteInfo, World};
use rand::Rng;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

/// The agent's `num_items_query_limit`.
const QUERY_LIMIT: usize = 2000;

struct Task {
    done_at: Instant,
    info: Value,
}

pub async fn run(world: Arc<World>, site: SiteInfo) {
    let mut stop = world.stop.clone();
    let period = world.clock.period(5.0);
    let mut tasks: HashMap<i64, Task> = HashMap::new();
    let mut task_seq = 0u64;
    loop {
        cycle(&world, &site, &mut tasks, &mut task_seq).await;
        if sleep_or_stop(&mut stop, period).await {
            break;
        }
    }
}

async fn cycle(world: &World, site: &SiteInfo, tasks: &mut HashMap<i64, Task>, seq: &mut u64) {
    let api = &world.api;
    // 1. In flight, according to the server.
    let q = query(&[
        ("site_id", site.id.to_string()),
        ("state", "active".into()),
        ("state", "inactive".into()),
        ("limit", "100000".into()),
        ("offset", "0".into()),
    ]);
    let Ok(in_flight) = api.get("GET /transfers/", &format!("transfers/?{q}")).await else {
        return;
    };
    // Poll our tasks: report the finished ones. Items in flight that we do not know
    // (left by an earlier run) finished while we were away.
    let now = Instant::now();
    let mut changed = Vec::new();
    let mut seen = HashSet::new();
    for item in in_flight["results"].as_array().into_iter().flatten() {
        let Some(id) = item["id"].as_i64() else {
            continue;
        };
        seen.insert(id);
        let finished = tasks.get(&id).is_none_or(|t| t.done_at <= now);
        if finished {
            let task = tasks.remove(&id);
            let mut info = match task {
                Some(t) => t.info,
                None => item["transfer_info"].clone(),
            };
            if !info.is_object() {
                info = json!({});
            }
            info["status"] = json!("SUCCEEDED");
            info["completion_time"] = json!(now_iso());
            changed.push(json!({"id": id, "state": "done", "transfer_info": info}));
        }
    }
    // Our tasks the server no longer lists as in flight (their jobs were deleted).
    tasks.retain(|id, t| seen.contains(id) || t.done_at > now);
    if !changed.is_empty() {
        api.patch_all("PATCH /transfers/", "transfers/", changed)
            .await;
    }

    // 2. Pending items, up to the query limit.
    let q = query(&[
        ("site_id", site.id.to_string()),
        ("state", "pending".into()),
        ("limit", QUERY_LIMIT.to_string()),
        ("offset", "0".into()),
    ]);
    let Ok(pending) = api.get("GET /transfers/", &format!("transfers/?{q}")).await else {
        return;
    };
    let items: Vec<&Value> = pending["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["id"].as_i64().is_some_and(|id| !tasks.contains_key(&id)))
        .collect();
    if items.is_empty() || world.stopping() {
        return;
    }
    // 3. The jobs' workdirs, then one task per (location, direction) batch.
    let job_ids: Vec<i64> = items
        .iter()
        .filter_map(|i| i["job_id"].as_i64())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    for chunk in job_ids.chunks(500) {
        let mut pairs: Vec<(&str, String)> =
            chunk.iter().map(|id| ("id", id.to_string())).collect();
        pairs.push(("limit", "100000".into()));
        pairs.push(("offset", "0".into()));
        let _ = api
            .get("GET /jobs/", &format!("jobs/?{}", query(&pairs)))
            .await;
    }
    let mut batches: HashMap<(String, String), Vec<i64>> = HashMap::new();
    for item in &items {
        let (Some(id), Some(alias), Some(dir)) = (
            item["id"].as_i64(),
            item["location_alias"].as_str(),
            item["direction"].as_str(),
        ) else {
            continue;
        };
        batches
            .entry((alias.to_owned(), dir.to_owned()))
            .or_default()
            .push(id);
    }
    let mut submitted = Vec::new();
    for ((alias, direction), ids) in batches {
        *seq += 1;
        let task_id = format!("sim-{}-{}-{:06}", world.run_tag, site.index + 1, seq);
        let done_at = Instant::now() + world.clock.sim(rand::thread_rng().gen_range(5.0..30.0));
        for id in ids {
            let info = json!({"task_id": task_id, "location": alias, "direction": direction,
                              "submit_time": now_iso()});
            submitted.push(json!({"id": id, "task_id": task_id, "state": "active"}));
            tasks.insert(id, Task { done_at, info });
        }
    }
    if api
        .call(
            "PATCH /transfers/",
            Method::PATCH,
            "transfers/",
            Some(&Value::Array(submitted.clone())),
        )
        .await
        .is_err()
    {
        // Not submitted after all: forget these tasks, they are still pending.
        for item in submitted {
            if let Some(id) = item["id"].as_i64() {
                tasks.remove(&id);
            }
        }
    }
}
