//! `bulk-create`: jobs created in calls of `--batch`; also makes the working set others use.
use super::{id_of, job_body, Ctx};
use crate::api::{excerpt, Body};
use crate::report::{say, Progress, Row};
use anyhow::{anyhow, bail, Context, Result};
use futures::StreamExt;
use reqwest::Method;
use serde_json::Value;
use std::time::Instant;

impl Ctx {
    /// Creates `n` jobs in calls of `batch`; records each call in `row` if given.
    pub(super) async fn create_jobs(
        &mut self,
        n: u64,
        batch: u64,
        label: &str,
        mut row: Option<&mut Row>,
    ) -> Result<Vec<i64>> {
        let api = self.api()?.clone();
        let app_id = self
            .app_id
            .ok_or_else(|| anyhow!("setup did not complete"))?;
        let progress = Progress::new(label, Some(n), "jobs", self.args.quiet);
        let mut ids = Vec::with_capacity(n as usize);
        let mut requests = 0;
        let mut wrong_state = 0u64;
        let mut first_wrong = String::new();
        // The calls, built up front so that --writers of them can be in flight at once
        // (like the SDK's thread pool); replies are checked in request order.
        let mut calls = Vec::new();
        let mut planned = 0u64;
        while planned < n {
            let count = batch.min(n - planned);
            let first = self.next_index;
            let tag = self.next_batch_tag;
            calls.push((first, count, tag));
            self.next_index += count;
            self.next_batch_tag += 1;
            planned += count;
        }
        let deadline = self.deadline;
        let mut replies = futures::stream::iter(calls.into_iter().map(|(first, count, tag)| {
            let api = api.clone();
            async move {
                if Instant::now() > deadline {
                    bail!("the run's --max-duration was reached");
                }
                let body: Vec<Value> = (first..first + count)
                    .map(|i| job_body(i, tag, app_id))
                    .collect();
                let body = Value::Array(body);
                let reply = api
                    .call(Method::POST, "jobs/", Body::json(&body), 201)
                    .await
                    .with_context(|| format!("POST /jobs/ with {count} jobs"))?;
                Ok::<_, anyhow::Error>((first, count, reply))
            }
        }))
        .buffered(self.args.writers.max(1));
        while let Some(result) = replies.next().await {
            let (first, count, reply) = result?;
            requests += 1;
            if let Some(row) = row.as_deref_mut() {
                row.record(reply.elapsed);
                row.add_items(count);
            }
            let created = reply.json_array("POST /jobs/")?;
            if created.len() as u64 != count {
                bail!(
                    "POST /jobs/ with {count} jobs answered {} jobs",
                    created.len()
                );
            }
            for (k, job) in created.iter().enumerate() {
                let index = first + k as u64;
                let id = id_of(job).context("created job")?;
                let workdir = job["workdir"].as_str().unwrap_or("");
                if workdir != format!("bench/{index}") {
                    bail!(
                        "POST /jobs/ answered jobs out of request order: item {k} has workdir {workdir:?}, sent bench/{index}"
                    );
                }
                if job["state"] != "STAGED_IN" {
                    wrong_state += 1;
                    if first_wrong.is_empty() {
                        first_wrong = excerpt(&job.to_string());
                    }
                }
                if index % 2 == 0 {
                    self.even_jobs += 1;
                }
                ids.push(id);
                self.all_ids.push(id);
            }
            progress.update(ids.len() as u64, requests);
        }
        progress.finish(ids.len() as u64, requests);
        if wrong_state > 0 {
            self.problem(format!(
                "{wrong_state} created jobs (no parents, no transfers) are not STAGED_IN, e.g. {first_wrong}"
            ));
        }
        Ok(ids)
    }

    pub async fn bulk_create(&mut self) -> Result<Vec<Row>> {
        let mut row = Row::new("bulk-create");
        let t0 = Instant::now();
        let (n, batch) = (self.args.jobs, self.args.batch);
        let ids = self
            .create_jobs(n, batch, "bulk-create", Some(&mut row))
            .await?;
        row.wall = t0.elapsed();
        row.note = format!("POST /jobs/ x{batch} per call");
        self.work_ids = ids;
        self.work_state = "STAGED_IN";
        Ok(vec![row])
    }

    pub(super) async fn ensure_work_set(&mut self) -> Result<()> {
        if self.work_ids.is_empty() {
            say(&format!(
                "[prep] creating the {} working-set jobs (untimed; bulk-create was not selected)",
                self.args.jobs
            ));
            let ids = self
                .create_jobs(self.args.jobs, self.args.fill_batch, "prep", None)
                .await?;
            self.work_ids = ids;
            self.work_state = "STAGED_IN";
        }
        Ok(())
    }
}
