//! `bulk-patch`: the working set PATCHed from state to state, checked by count.
use super::Ctx;
use crate::api::{excerpt, Body};
use crate::report::{Progress, Row};
use anyhow::{anyhow, bail, Context, Result};
use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

impl Ctx {
    /// PATCHes every working-set job to `state`, then checks the count; returns the wall
    /// time of the PATCHes alone.
    pub(super) async fn patch_work_set(
        &mut self,
        state: &'static str,
        batch: u64,
        label: &str,
        mut row: Option<&mut Row>,
    ) -> Result<Duration> {
        let api = self.api()?.clone();
        let n = self.work_ids.len() as u64;
        let t0 = Instant::now();
        let progress = Progress::new(label, Some(n), "jobs", self.args.quiet);
        let mut done = 0u64;
        let mut requests = 0u64;
        let mut miscounted = Vec::new();
        let deadline = self.deadline;
        let chunks: Vec<Vec<i64>> = self
            .work_ids
            .chunks(batch as usize)
            .map(<[i64]>::to_vec)
            .collect();
        let mut replies = futures::stream::iter(chunks.into_iter().map(|chunk| {
            let api = api.clone();
            async move {
                if Instant::now() > deadline {
                    bail!("the run's --max-duration was reached");
                }
                let body: Vec<Value> = chunk
                    .iter()
                    .map(|id| json!({"id": id, "state": state, "state_data": {}}))
                    .collect();
                let reply = api
                    .call(Method::PATCH, "jobs/", Body::json(&Value::Array(body)), 200)
                    .await
                    .with_context(|| format!("PATCH /jobs/ with {} patches", chunk.len()))?;
                Ok::<_, anyhow::Error>((chunk.len() as u64, reply))
            }
        }))
        .buffered(self.args.writers.max(1));
        while let Some(result) = replies.next().await {
            let (len, reply) = result?;
            requests += 1;
            if let Some(row) = row.as_deref_mut() {
                row.record(reply.elapsed);
                row.add_items(len);
            }
            let updated = reply.json()?;
            if updated.as_u64() != Some(len) && miscounted.len() < 3 {
                miscounted.push(format!(
                    "PATCH /jobs/ with {len} patches answered {} (expected the integer {len})",
                    excerpt(&reply.body),
                ));
            }
            done += len;
            progress.update(done, requests);
        }
        let wall = t0.elapsed();
        progress.finish(done, requests);
        for m in miscounted {
            self.problem(m);
        }
        self.work_state = state;
        let count = self
            .count(&format!("site_id={}&state={state}", self.site()?))
            .await?;
        if count != n {
            self.problem(format!(
                "after PATCHing {n} jobs to {state}, GET /jobs/?state={state}&limit=0 counts {count}"
            ));
        }
        Ok(wall)
    }

    pub async fn bulk_patch(&mut self) -> Result<Vec<Row>> {
        self.ensure_work_set().await?;
        let mut row = Row::new("bulk-patch");
        let batch = self.args.batch;
        row.wall = self
            .patch_work_set("PREPROCESSED", batch, "bulk-patch", Some(&mut row))
            .await?;
        row.note = format!("PATCH /jobs/ x{batch} per call, STAGED_IN -> PREPROCESSED");
        Ok(vec![row])
    }

    pub(super) async fn count(&self, query: &str) -> Result<u64> {
        let path = format!("jobs/?{query}&limit=0&offset=0");
        let reply = self
            .api()?
            .call(Method::GET, &path, Body::None, 200)
            .await?;
        reply.json()?["count"]
            .as_u64()
            .ok_or_else(|| anyhow!("GET /{path}: no count: {}", excerpt(&reply.body)))
    }
}
