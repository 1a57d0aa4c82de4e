//! The agent's bulk status updater: collects job updates and sends them as `PATCH /jobs/`
//! lists, at most one update per job id per request (a job's later update goes in a later
//! request), chunked at 5000. Items carry their own key sets.

use crate::api::{query, ApiError};
use crate::world::World;
use reqwest::Method;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

const MAX_ITEMS: usize = 5000;

#[derive(Default)]
pub struct Updater {
    pending: Vec<Value>,
}

impl Updater {
    pub fn push(&mut self, update: Value) {
        self.pending.push(update);
    }

    /// Sends everything collected. Failed requests are logged and dropped (a job left
    /// locked by a live session is freed when the session is deleted).
    pub async fn flush(&mut self, world: &World) {
        if self.pending.is_empty() {
            return;
        }
        // Layer the updates: the k-th update of a job goes into request k.
        let mut layers: Vec<Vec<Value>> = Vec::new();
        let mut seen: HashMap<i64, usize> = HashMap::new();
        for update in self.pending.drain(..) {
            let id = update["id"].as_i64().unwrap_or_default();
            let layer = seen.get(&id).map_or(0, |l| l + 1);
            seen.insert(id, layer);
            if layers.len() <= layer {
                layers.resize_with(layer + 1, Vec::new);
            }
            layers[layer].push(update);
        }
        for layer in layers {
            for chunk in layer.chunks(MAX_ITEMS) {
                send(world, chunk).await;
            }
        }
    }
}

async fn send(world: &World, items: &[Value]) {
    let body = Value::Array(items.to_vec());
    match world
        .api
        .call_quiet("PATCH /jobs/", Method::PATCH, "jobs/", Some(&body))
        .await
    {
        Ok(_) => {}
        // Some job was deleted meanwhile (e.g. from the web client): resend the rest.
        Err(ApiError::Status { status: 400, body }) if body.contains("Could not find") => {
            world.api.stats.count_error("PATCH /jobs/");
            let existing = existing_ids(world, items).await;
            let kept: Vec<Value> = items
                .iter()
                .filter(|u| u["id"].as_i64().is_some_and(|id| existing.contains(&id)))
                .cloned()
                .collect();
            world.console.warn(&format!(
                "PATCH /jobs/: {} of {} jobs no longer exist; sending the others",
                items.len() - kept.len(),
                items.len()
            ));
            if !kept.is_empty() {
                world.api.patch_all("PATCH /jobs/", "jobs/", kept).await;
            }
        }
        Err(e) => {
            if e.status().is_some_and(|s| s < 500) {
                world.api.stats.count_error("PATCH /jobs/");
            }
            world.console.warn(&format!(
                "PATCH /jobs/ ({} updates dropped): {e}",
                items.len()
            ))
        }
    }
}

async fn existing_ids(world: &World, items: &[Value]) -> HashSet<i64> {
    let ids: Vec<i64> = items.iter().filter_map(|u| u["id"].as_i64()).collect();
    let mut out = HashSet::new();
    for chunk in ids.chunks(500) {
        let mut pairs: Vec<(&str, String)> =
            chunk.iter().map(|id| ("id", id.to_string())).collect();
        pairs.push(("limit", "100000".into()));
        pairs.push(("offset", "0".into()));
        if let Ok(page) = world
            .api
            .get("GET /jobs/", &format!("jobs/?{}", query(&pairs)))
            .await
        {
            if let Some(results) = page["results"].as_array() {
                out.extend(results.iter().filter_map(|j| j["id"].as_i64()));
            }
        }
    }
    out
}
