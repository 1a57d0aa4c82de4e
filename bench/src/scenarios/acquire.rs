//! `acquire`: `--launchers` concurrent sessions acquiring the working set and moving it to
//! RUN_DONE, as the launcher does; a job handed to two sessions fails the run.
use super::{id_of, post_for_id, utc_now_naive, Ctx};
use crate::api::{excerpt, Api, Body};
use crate::report::{say, Progress, Row, Status};
use anyhow::{anyhow, bail, Context, Result};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

impl Ctx {
    pub async fn acquire(&mut self) -> Result<Vec<Row>> {
        self.ensure_work_set().await?;
        if self.work_state != "PREPROCESSED" {
            say("[prep] PATCHing the working set to PREPROCESSED (untimed)");
            let batch = self.args.fill_batch;
            self.patch_work_set("PREPROCESSED", batch, "prep", None)
                .await?;
        }
        let api = self.api()?.clone();
        let site = self.site()?;
        let launchers = self.args.launchers;
        let max_num_jobs = self.args.acquire_max;
        let n = self.work_ids.len() as u64;

        let mut sessions = Vec::new();
        for _ in 0..launchers {
            let body = json!({"site_id": site, "batch_job_id": null});
            let (id, _) =
                post_for_id(&api, "sessions/", &body, "POST /sessions/", "Session").await?;
            sessions.push(id);
        }

        let shared = Arc::new(Shared {
            owner: Mutex::new(HashMap::with_capacity(n as usize)),
            dups: Mutex::new(Vec::new()),
            work: self.work_ids.iter().copied().collect(),
            abort: AtomicBool::new(false),
            acquired: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            progress: Progress::new("acquire", Some(n), "jobs", self.args.quiet),
        });
        let body = acquire_body(max_num_jobs);
        let max_calls = n + 10;
        let deadline = self.deadline;
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for (index, session) in sessions.iter().copied().enumerate() {
            let api = api.clone();
            let shared = shared.clone();
            let body = body.clone();
            tasks.push(tokio::spawn(async move {
                launcher(api, shared, index, session, body, max_calls, deadline).await
            }));
        }
        let mut outcomes = Vec::new();
        for t in tasks {
            outcomes.push(
                t.await
                    .map_err(|e| anyhow!("launcher task panicked: {e}"))?,
            );
        }
        let wall = t0.elapsed();
        shared.progress.finish(
            shared.acquired.load(Ordering::Relaxed),
            shared.calls.load(Ordering::Relaxed),
        );

        let mut acq = Row::new("acquire");
        let mut patch = Row::new("acquire/patch");
        acq.items = Some(0);
        patch.items = Some(0);
        let mut errors = Vec::new();
        let mut per_session = Vec::new();
        for (i, o) in outcomes.into_iter().enumerate() {
            for l in &o.acquire_latencies {
                acq.record(*l);
            }
            for l in &o.patch_latencies {
                patch.record(*l);
            }
            acq.add_items(o.acquired);
            patch.add_items(o.patched);
            per_session.push(json!({"session_id": sessions[i], "calls": o.acquire_latencies.len(), "jobs": o.acquired}));
            if o.bad_state > 0 {
                self.problem(format!(
                    "session {}: {} acquired jobs were not in PREPROCESSED/RESTART_READY",
                    sessions[i], o.bad_state
                ));
            }
            if o.foreign > 0 {
                self.problem(format!(
                    "session {}: {} acquired job ids are not jobs this run made runnable",
                    sessions[i], o.foreign
                ));
            }
            if o.hit_call_cap {
                self.problem(format!(
                    "session {}: stopped after {max_calls} acquire calls without an empty answer",
                    sessions[i]
                ));
            }
            if let Some(e) = o.error {
                errors.push(format!("launcher {i} (session {}): {e}", sessions[i]));
            }
        }
        acq.wall = wall;
        patch.wall = wall;
        acq.note = format!(
            "{launchers} launchers, max_num_jobs={max_num_jobs}; rates over the whole phase, which includes each launcher's PATCHes"
        );
        patch.note =
            "PATCH /jobs/ RUNNING then RUN_DONE per acquired batch (items = job patches)".into();
        acq.extra = json!({"sessions": per_session});

        let duplicates = shared.duplicates();
        if !duplicates.is_empty() {
            self.duplicate_acquire = true;
            let shown: Vec<String> = duplicates
                .iter()
                .take(20)
                .map(|(job, a, b)| {
                    format!(
                        "job {job} -> sessions {} and {}",
                        sessions[*a], sessions[*b]
                    )
                })
                .collect();
            say(&format!(
                "\n!!!!!!!!!! DUPLICATE ACQUIRE: {} job(s) handed to two sessions: {} !!!!!!!!!!\n",
                duplicates.len(),
                shown.join(", ")
            ));
            self.problem(format!(
                "DUPLICATE ACQUIRE: {} job(s) handed out twice: {}",
                duplicates.len(),
                shown.join(", ")
            ));
            acq.status = Status::Failed(format!("{} job(s) acquired twice", duplicates.len()));
        }
        if let Some(e) = errors.first() {
            acq.status = Status::Failed(e.clone());
        }

        if errors.is_empty() && duplicates.is_empty() {
            let distinct = shared.owner.lock().unwrap_or_else(|e| e.into_inner()).len() as u64;
            if distinct != n {
                self.problem(format!(
                    "acquire handed out {distinct} distinct jobs, expected {n}"
                ));
            }
            let left = self
                .count(&format!("site_id={site}&state=PREPROCESSED"))
                .await?;
            if left != 0 {
                self.problem(format!(
                    "{left} jobs still PREPROCESSED after every launcher saw an empty acquire"
                ));
            }
            let done = self
                .count(&format!("site_id={site}&state=RUN_DONE"))
                .await?;
            if done != n {
                self.problem(format!(
                    "{done} jobs in RUN_DONE after the launchers, expected {n}"
                ));
            }
            self.work_state = "RUN_DONE";
        }

        for s in &sessions {
            match api
                .send(Method::DELETE, &format!("sessions/{s}"), Body::None)
                .await
            {
                Ok(r) if r.status == 204 || r.status == 200 => {}
                Ok(r) => self.problem(format!(
                    "DELETE /sessions/{s} answered HTTP {}: {}",
                    r.status,
                    excerpt(&r.body)
                )),
                Err(e) => self.problem(format!("DELETE /sessions/{s}: {e:#}")),
            }
        }
        if let Some(e) = errors.into_iter().next() {
            // Keep the measured rows, but stop the run like any other failure.
            self.stop = Some(format!("acquire: {e}"));
        }
        Ok(vec![acq, patch])
    }
}

struct Shared {
    /// job id -> index of the first session that acquired it.
    owner: Mutex<HashMap<i64, usize>>,
    /// (job, first session index, second session index) for every job handed out twice.
    dups: Mutex<Vec<(i64, usize, usize)>>,
    work: HashSet<i64>,
    abort: AtomicBool,
    acquired: AtomicU64,
    calls: AtomicU64,
    progress: Progress,
}

impl Shared {
    fn duplicates(&self) -> Vec<(i64, usize, usize)> {
        self.dups.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[derive(Default)]
struct LauncherOutcome {
    acquire_latencies: Vec<Duration>,
    patch_latencies: Vec<Duration>,
    acquired: u64,
    patched: u64,
    bad_state: u64,
    foreign: u64,
    hit_call_cap: bool,
    error: Option<String>,
}

/// The body the serial-mode launcher sends (every key, nulls included).
fn acquire_body(max_num_jobs: u64) -> Value {
    json!({
        "max_num_jobs": max_num_jobs,
        "max_wall_time_min": null,
        "max_nodes_per_job": 1,
        "max_aggregate_nodes": null,
        "serial_only": false,
        "sort_by": null,
        "filter_tags": {},
        "states": ["PREPROCESSED", "RESTART_READY"],
        "app_ids": [],
    })
}

/// One launcher: acquire until the server has nothing left, moving each acquired batch
/// to RUNNING and then RUN_DONE with bulk PATCHes, as the launcher's status updater does.
async fn launcher(
    api: Api,
    shared: Arc<Shared>,
    index: usize,
    session: i64,
    body: Value,
    max_calls: u64,
    deadline: Instant,
) -> LauncherOutcome {
    let mut out = LauncherOutcome::default();
    if let Err(e) = launcher_loop(
        &api, &shared, index, session, &body, max_calls, deadline, &mut out,
    )
    .await
    {
        shared.abort.store(true, Ordering::SeqCst);
        out.error = Some(format!("{e:#}"));
    }
    out
}

#[expect(
    clippy::too_many_arguments,
    reason = "one launcher's inputs and its outcome; bundling them would only rename them"
)]
async fn launcher_loop(
    api: &Api,
    shared: &Shared,
    index: usize,
    session: i64,
    body: &Value,
    max_calls: u64,
    deadline: Instant,
    out: &mut LauncherOutcome,
) -> Result<()> {
    let path = format!("sessions/{session}");
    for call in 0.. {
        if shared.abort.load(Ordering::SeqCst) {
            return Ok(());
        }
        if call >= max_calls {
            out.hit_call_cap = true;
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("--max-duration exceeded");
        }
        let reply = api.call(Method::POST, &path, Body::json(body), 200).await?;
        out.acquire_latencies.push(reply.elapsed);
        let calls = shared.calls.fetch_add(1, Ordering::Relaxed) + 1;
        let jobs = reply.json_array(&format!("POST /{path}"))?;
        if jobs.is_empty() {
            return Ok(());
        }
        let mut ids = Vec::with_capacity(jobs.len());
        for job in &jobs {
            let id = id_of(job).context("acquired job")?;
            if !matches!(
                job["state"].as_str(),
                Some("PREPROCESSED" | "RESTART_READY")
            ) {
                out.bad_state += 1;
            }
            if !shared.work.contains(&id) {
                out.foreign += 1;
            }
            ids.push(id);
        }
        {
            let mut owner = shared.owner.lock().unwrap_or_else(|e| e.into_inner());
            let mut dups = Vec::new();
            for id in &ids {
                if let Some(first) = owner.insert(*id, index) {
                    owner.insert(*id, first);
                    dups.push((*id, first, index));
                }
            }
            if !dups.is_empty() {
                shared
                    .dups
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(dups);
                shared.abort.store(true, Ordering::SeqCst);
                return Ok(());
            }
        }
        out.acquired += ids.len() as u64;
        let total = shared
            .acquired
            .fetch_add(ids.len() as u64, Ordering::Relaxed)
            + ids.len() as u64;
        shared.progress.update(total, calls);

        for (state, data) in [
            ("RUNNING", json!({"num_nodes": 1.0})),
            ("RUN_DONE", json!({})),
        ] {
            for chunk in ids.chunks(5000) {
                let ts = utc_now_naive();
                let patches: Vec<Value> = chunk
                    .iter()
                    .map(|id| json!({"id": id, "state": state, "state_timestamp": ts, "state_data": data}))
                    .collect();
                let reply = api
                    .call(
                        Method::PATCH,
                        "jobs/",
                        Body::json(&Value::Array(patches)),
                        200,
                    )
                    .await
                    .with_context(|| format!("PATCH /jobs/ {} jobs -> {state}", chunk.len()))?;
                out.patch_latencies.push(reply.elapsed);
                out.patched += chunk.len() as u64;
                let n = reply.json()?;
                if n.as_u64() != Some(chunk.len() as u64) {
                    bail!(
                        "PATCH /jobs/ with {} patches to {state} answered {} (expected that integer)",
                        chunk.len(),
                        excerpt(&reply.body)
                    );
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acquire_body_matches_the_serial_launcher() {
        let b = acquire_body(256);
        assert_eq!(b["max_num_jobs"], 256);
        assert_eq!(b["states"], json!(["PREPROCESSED", "RESTART_READY"]));
        assert!(b["max_aggregate_nodes"].is_null() && b["sort_by"].is_null());
    }
}
