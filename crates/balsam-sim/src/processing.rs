//! The processing service of one Site: a Session without BatchJob acquiring STAGED_IN,
//! RUN_DONE, RUN_ERROR and RUN_TIMEOUT jobs about once a (simulated) second, even when
//! idle, and answering with PREPROCESSED / POSTPROCESSED / RESTART_READY / FAILED
//! in bulk `PATCH /jobs/` lists with mixed key sets (return values, data, exceptions).

use crate::updater::Updater;
use crate::util::{lock, now_iso};
use crate::world::{Fate, SiteInfo, World};
use rand::Rng;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

/// The agent's prefetch depth.
const DEPTH: usize = 1000;

pub async fn run(world: Arc<World>, site: SiteInfo) {
    let api = &world.api;
    let clock = world.clock;
    api.warm_app_cache(site.id).await;
    let body = json!({"site_id": site.id, "batch_job_id": null});
    let mut session_id = None;
    let mut stop = world.stop.clone();
    let period = clock.period(1.0);
    // Ticks keep the session alive (it expires after minutes of real time): no need
    // to tick more than once a real second, however fast the simulation.
    let tick_every = clock.period(60.0).max(std::time::Duration::from_secs(1));
    let mut last_tick = Instant::now();
    let mut queue: Vec<(Instant, Value)> = Vec::new();
    let mut updater = Updater::default();
    loop {
        // (Re)open the Session if needed (it may have expired while the server was down).
        let sid = match session_id {
            Some(id) => id,
            None => {
                let created = api
                    .call("POST /sessions/", Method::POST, "sessions/", Some(&body))
                    .await
                    .ok()
                    .and_then(|s| s["id"].as_i64());
                if let Some(id) = created {
                    api.tick_session(id).await;
                    last_tick = Instant::now();
                    session_id = Some(id);
                    id
                } else {
                    if crate::util::sleep_or_stop(&mut stop, clock.period(5.0)).await {
                        break;
                    }
                    continue;
                }
            }
        };
        let path = format!("sessions/{sid}");
        if queue.len() < DEPTH {
            let acquire = json!({
                "max_num_jobs": (DEPTH - queue.len()).min(2048),
                "max_wall_time_min": null, "max_nodes_per_job": null,
                "max_aggregate_nodes": null, "serial_only": false, "sort_by": null,
                "filter_tags": {}, "states": ["STAGED_IN", "RUN_DONE", "RUN_ERROR", "RUN_TIMEOUT"],
                "app_ids": [],
            });
            match api
                .call_quiet("POST /sessions/{id}", Method::POST, &path, Some(&acquire))
                .await
            {
                Ok(jobs) => {
                    let mut rng = rand::thread_rng();
                    for job in jobs.as_array().into_iter().flatten() {
                        // Pre- and post-processing hooks take a moment.
                        let ready = Instant::now() + clock.sim(rng.gen_range(0.2..2.0));
                        queue.push((ready, job.clone()));
                    }
                }
                Err(e) => {
                    if e.status().is_some_and(|s| s < 500) {
                        world.api.stats.count_error("POST /sessions/{id}");
                        world.console.warn(&format!("POST /sessions/{{id}}: {e}"));
                    }
                    if e.status() == Some(404) {
                        // Swept: the jobs it held are unlocked; start over.
                        session_id = None;
                        queue.clear();
                        continue;
                    }
                }
            }
        }
        let now = Instant::now();
        let mut i = 0;
        while i < queue.len() {
            if queue[i].0 <= now {
                let (_, job) = queue.swap_remove(i);
                if let Some(update) = process(&world, &job) {
                    updater.push(update);
                }
            } else {
                i += 1;
            }
        }
        updater.flush(&world).await;
        if last_tick.elapsed() >= tick_every {
            last_tick = Instant::now();
            let _ = api
                .call("PUT /sessions/{id}", Method::PUT, &path, Some(&json!({})))
                .await;
        }
        if crate::util::sleep_or_stop(&mut stop, period).await {
            break;
        }
    }
    updater.flush(&world).await;
    if let Some(id) = session_id {
        let _ = api
            .call(
                "DELETE /sessions/{id}",
                Method::DELETE,
                &format!("sessions/{id}"),
                None,
            )
            .await;
    }
}

/// The update the agent's pre/post-processing and error handling would send.
fn process(world: &World, job: &Value) -> Option<Value> {
    let id = job["id"].as_i64()?;
    let state = job["state"].as_str().unwrap_or_default();
    let python = world.is_python_app(job["app_id"].as_i64().unwrap_or_default());
    let ts = now_iso();
    let mut rng = rand::thread_rng();
    Some(match state {
        "STAGED_IN" => {
            json!({"id": id, "state": "PREPROCESSED", "state_timestamp": ts, "state_data": {}})
        }
        "RUN_DONE" => {
            let mut update = json!({"id": id, "state": "POSTPROCESSED", "state_timestamp": ts, "state_data": {}});
            if python {
                // The pickled return value (the item with this key may follow one without).
                let x = job["data"]["x"].as_i64().unwrap_or(1);
                update["serialized_return_value"] = json!(format!("gASVsimret{:06}Lg==\n", x * 2));
                update["serialized_exception"] = json!("");
            } else if rng.gen_bool(0.5) {
                // A postprocess hook that records something in `data`.
                let mut data = job["data"].clone();
                if !data.is_object() {
                    data = json!({});
                }
                data["output_lines"] = json!(rng.gen_range(1..5000));
                update["data"] = data;
            }
            update
        }
        "RUN_ERROR" => {
            let fate = lock(&world.jobs).get(&id).map(|m| m.fate);
            if fate == Some(Fate::ErrorThenFail) {
                let mut update = json!({
                    "id": id, "state": "FAILED", "state_timestamp": ts,
                    "state_data": {
                        "message": "handle_error: giving up after a nonzero return code",
                        "exception": "RuntimeError('simulate exited with an error')",
                    },
                });
                if python {
                    update["serialized_exception"] = json!("gASVsimexcUnVudGltZUVycm9y\n");
                }
                update
            } else {
                json!({"id": id, "state": "RESTART_READY", "state_timestamp": ts,
                       "state_data": {"message": "handle_error: retrying"}})
            }
        }
        "RUN_TIMEOUT" => {
            json!({"id": id, "state": "RESTART_READY", "state_timestamp": ts, "state_data": {}})
        }
        _ => return None,
    })
}
