//! The scenarios. Each one returns its report rows; prerequisites it needs but that
//! were not selected (the working set of jobs, their state) are prepared untimed.

use crate::api::{enc, excerpt, form, Api, Body};
use crate::report::{say, Progress, Row, Status};
use crate::Args;
use anyhow::{anyhow, bail, Context, Result};
use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod ws;

const MAX_PROBLEMS: usize = 100;
/// A `timestamp_after` before any benchmark data: the LogEvent queries keep their timestamp
/// filter (as the dashboard's last-hour window on a freshly loaded table) and match it all.
const EPOCH: &str = "2000-01-01T00:00:00";

pub struct Ctx {
    args: Args,
    anon: Api,
    api: Option<Api>,
    /// The bench user's access token (for the websocket hello).
    token: String,
    deadline: Instant,
    pub username: String,
    pub site_id: Option<i64>,
    pub app_id: Option<i64>,
    /// The jobs bulk-patch and acquire work on (made by bulk-create).
    work_ids: Vec<i64>,
    /// Their state as far as we know ("STAGED_IN" after creation).
    work_state: &'static str,
    /// Every job this run created (the user is fresh, so this is the user's whole table).
    all_ids: Vec<i64>,
    even_jobs: u64,
    next_index: u64,
    next_batch_tag: u64,
    pub problems: Vec<String>,
    pub duplicate_acquire: bool,
    /// Set by a scenario that reports its rows but must end the run.
    pub stop: Option<String>,
}

impl Ctx {
    pub fn new(args: Args, anon: Api, deadline: Instant) -> Ctx {
        Ctx {
            args,
            anon,
            api: None,
            token: String::new(),
            deadline,
            username: String::new(),
            site_id: None,
            app_id: None,
            work_ids: Vec::new(),
            work_state: "STAGED_IN",
            all_ids: Vec::new(),
            even_jobs: 0,
            next_index: 0,
            next_batch_tag: 0,
            problems: Vec::new(),
            duplicate_acquire: false,
            stop: None,
        }
    }

    /// GET/DELETE requests re-sent after a dropped connection (see [`Api::send`]).
    pub fn retries(&self) -> u64 {
        self.anon.retries()
    }

    fn api(&self) -> Result<&Api> {
        self.api
            .as_ref()
            .ok_or_else(|| anyhow!("setup did not complete"))
    }

    fn site(&self) -> Result<i64> {
        self.site_id
            .ok_or_else(|| anyhow!("setup did not complete"))
    }

    fn check_deadline(&self) -> Result<()> {
        if Instant::now() > self.deadline {
            bail!("--max-duration ({} s) exceeded", self.args.max_duration);
        }
        Ok(())
    }

    fn problem(&mut self, msg: String) {
        say(&format!("CHECK FAILED: {msg}"));
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(msg);
        } else if self.problems.len() == MAX_PROBLEMS {
            self.problems
                .push("(further check failures omitted)".to_string());
        }
    }

    fn total_jobs(&self) -> u64 {
        self.all_ids.len() as u64
    }

    // ---------------------------------------------------------------- setup

    pub async fn setup(&mut self) -> Result<Vec<Row>> {
        let mut row = Row::new("setup");
        let t0 = Instant::now();
        let suffix = unique_suffix();
        let username = format!("bench_{suffix}");
        let password = format!("pw-{suffix}-balsam-bench");

        let reply = self
            .anon
            .call(
                Method::POST,
                "auth/password/register",
                Body::json(&json!({"username": username, "password": password})),
                201,
            )
            .await
            .context("register")?;
        row.record(reply.elapsed);

        let reply = self
            .anon
            .call(
                Method::POST,
                "auth/password/login",
                Body::Form(form(&[("username", &username), ("password", &password)])),
                200,
            )
            .await
            .context("login")?;
        row.record(reply.elapsed);
        let token = reply.json()?["access_token"]
            .as_str()
            .ok_or_else(|| {
                anyhow!(
                    "login response has no access_token: {}",
                    excerpt(&reply.body)
                )
            })?
            .to_string();
        let api = self.anon.with_token(&token)?;

        // The body `balsam site init` sends (every field with its default).
        let site = json!({
            "name": format!("bench-{suffix}"),
            "path": format!("/tmp/balsam-bench/{suffix}"),
            "globus_endpoint_id": null,
            "backfill_windows": {},
            "queued_jobs": {},
            "optional_batch_job_params": {},
            "allowed_projects": [],
            "allowed_queues": {},
            "transfer_locations": {},
        });
        let reply = api
            .call(Method::POST, "sites/", Body::json(&site), 201)
            .await
            .context("create Site")?;
        row.record(reply.elapsed);
        let site_id = id_of(&reply.json()?).context("Site response")?;

        // The body ApplicationDefinition.sync() sends.
        let app = json!({
            "site_id": site_id,
            "name": "BenchApp",
            "serialized_class": "YmFsc2FtLWJlbmNoIGR1bW15IGNsYXNz",
            "source_code": "class BenchApp(ApplicationDefinition):\n    command_template = 'true'\n",
            "description": "balsam-bench dummy app",
            "parameters": {},
            "transfers": {},
        });
        let reply = api
            .call(Method::POST, "apps/", Body::json(&app), 201)
            .await
            .context("create App")?;
        row.record(reply.elapsed);
        let app_id = id_of(&reply.json()?).context("App response")?;

        row.wall = t0.elapsed();
        row.note = "register, login, POST /sites/, POST /apps/ (register and login include password hashing)".into();
        say(&format!(
            "[setup] user {username}, site {site_id}, app {app_id}"
        ));
        self.username = username;
        self.site_id = Some(site_id);
        self.app_id = Some(app_id);
        self.api = Some(api);
        self.token = token;
        Ok(vec![row])
    }

    // ---------------------------------------------------------------- job creation

    /// Creates `n` jobs in calls of `batch`; records each call in `row` if given.
    async fn create_jobs(
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
            let created = reply.json()?;
            let created = created.as_array().ok_or_else(|| {
                anyhow!(
                    "POST /jobs/ did not answer a JSON array: {}",
                    excerpt(&reply.body)
                )
            })?;
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

    async fn ensure_work_set(&mut self) -> Result<()> {
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

    // ---------------------------------------------------------------- list

    pub async fn list(&mut self) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        self.ensure_work_set().await?;
        if self.args.list_jobs > self.total_jobs() {
            let extra = self.args.list_jobs - self.total_jobs();
            let mut fill = Row::new("list-fill");
            let t0 = Instant::now();
            let batch = self.args.fill_batch;
            self.create_jobs(extra, batch, "list-fill", Some(&mut fill))
                .await?;
            fill.wall = t0.elapsed();
            fill.note = format!(
                "grows the table to {} jobs: POST /jobs/ x{batch} per call",
                self.total_jobs()
            );
            rows.push(fill);
        }
        if self.work_state != "STAGED_IN" {
            bail!("list expects every job in STAGED_IN (it runs before bulk-patch)");
        }

        let site = self.site()?;
        let total = self.total_jobs();
        let r = self.args.list_requests.max(1);
        let even = self.even_jobs;

        struct Shape {
            name: &'static str,
            /// The collection listed: `jobs` or `events`.
            path: &'static str,
            queries: Vec<(String, u64)>, // query, expected results length
            count: u64,
            check: Check,
        }
        let staged = total;
        let offsets: Vec<u64> = (0..r).map(|i| (i * staged / r) / 100 * 100).collect();
        let ids_queries: Vec<(String, u64)> = (0..r)
            .map(|i| {
                let ids = sample_ids(&self.all_ids, 500, i as usize);
                let q = ids
                    .iter()
                    .map(|id| format!("id={id}"))
                    .collect::<Vec<_>>()
                    .join("&");
                (format!("{q}&limit=100000&offset=0"), ids.len() as u64)
            })
            .collect();
        let repeat = |q: String, len: u64| -> Vec<(String, u64)> {
            (0..r).map(|_| (q.clone(), len)).collect()
        };
        let shapes = vec![
            Shape {
                name: "list/state+offset",
                path: "jobs",
                queries: offsets
                    .iter()
                    .map(|k| {
                        (
                            format!("state=STAGED_IN&limit=100&offset={k}"),
                            100.min(staged - k),
                        )
                    })
                    .collect(),
                count: staged,
                check: Check::State("STAGED_IN"),
            },
            Shape {
                name: "list/tags",
                path: "jobs",
                queries: repeat(
                    format!("tags={}&limit=100", enc("kind:even")),
                    100.min(even),
                ),
                count: even,
                check: Check::Kind("even"),
            },
            Shape {
                name: "list/ordering",
                path: "jobs",
                queries: repeat("ordering=-last_update&limit=100".into(), 100.min(total)),
                count: total,
                check: Check::NonIncreasingLastUpdate,
            },
            Shape {
                name: "list/site+state__ne",
                path: "jobs",
                queries: repeat(
                    format!("site_id={site}&state__ne=JOB_FINISHED&limit=100"),
                    100.min(total),
                ),
                count: total,
                check: Check::None,
            },
            Shape {
                name: "list/count",
                path: "jobs",
                queries: repeat("limit=0&offset=0".into(), 0),
                count: total,
                check: Check::None,
            },
            Shape {
                name: "list/count-by-state",
                path: "jobs",
                queries: repeat(
                    format!("site_id={site}&state=STAGED_IN&limit=0&offset=0"),
                    0,
                ),
                count: staged,
                check: Check::None,
            },
            Shape {
                name: "list/id-500",
                path: "jobs",
                count: ids_queries.first().map_or(0, |q| q.1),
                queries: ids_queries,
                check: Check::None,
            },
            // The dashboard's LogEvent queries (web/src/views/DashboardView.vue): every job's
            // creation event (CREATED -> STAGED_IN) lies after the timestamp, so the first
            // counts the whole table and the other two are the quiet-hour case (no match).
            Shape {
                name: "list/events-to_state",
                path: "events",
                queries: repeat(
                    format!("to_state=STAGED_IN&timestamp_after={EPOCH}&ordering=-timestamp&limit=100"),
                    100.min(total),
                ),
                count: total,
                check: Check::None,
            },
            Shape {
                name: "list/events-none",
                path: "events",
                queries: repeat(
                    format!("to_state=JOB_FINISHED&timestamp_after={EPOCH}&ordering=-timestamp&limit=20000"),
                    0,
                ),
                count: 0,
                check: Check::None,
            },
            Shape {
                name: "list/events-from_state",
                path: "events",
                queries: repeat(
                    format!("from_state=RUNNING&timestamp_after={EPOCH}&limit=20000"),
                    0,
                ),
                count: 0,
                check: Check::None,
            },
        ];

        let api = self.api()?.clone();
        let mut all = Row::new("list");
        all.items = Some(0);
        let mut shape_rows = Vec::new();
        for shape in shapes {
            let mut row = Row::new(shape.name);
            row.items = Some(0);
            row.note = match shape.name {
                "list/id-500" => {
                    "GET /jobs/?id=<500 ids spread over the table>&limit=100000&offset=0".into()
                }
                "list/state+offset" => format!(
                    "GET /jobs/?state=STAGED_IN&limit=100&offset=K, K spread over 0..{staged}"
                ),
                _ => format!(
                    "GET /{}/?{}",
                    shape.path,
                    shape.queries.first().map_or("", |q| q.0.as_str())
                ),
            };
            let progress = Progress::new(shape.name, Some(r), "requests", self.args.quiet);
            let mut bad = Vec::new();
            let t0 = Instant::now();
            for (i, (query, expect_len)) in shape.queries.iter().enumerate() {
                self.check_deadline()?;
                let path = format!("{}/?{query}", shape.path);
                let reply = api.call(Method::GET, &path, Body::None, 200).await?;
                row.record(reply.elapsed);
                all.record(reply.elapsed);
                let page = reply.json()?;
                let results = page["results"].as_array().ok_or_else(|| {
                    anyhow!("GET /{path}: no results array: {}", excerpt(&reply.body))
                })?;
                row.add_items(results.len() as u64);
                all.add_items(results.len() as u64);
                if page["count"].as_u64() != Some(shape.count) && bad.len() < 3 {
                    bad.push(format!(
                        "GET /{}/?{}: count {} (expected {})",
                        shape.path,
                        shorten(query, 120),
                        page["count"],
                        shape.count
                    ));
                }
                if results.len() as u64 != *expect_len && bad.len() < 3 {
                    bad.push(format!(
                        "GET /{}/?{}: {} results (expected {expect_len})",
                        shape.path,
                        shorten(query, 120),
                        results.len()
                    ));
                }
                if let Some(msg) = shape.check.verify(results) {
                    if bad.len() < 3 {
                        bad.push(format!("GET /jobs/?{}: {msg}", shorten(query, 120)));
                    }
                }
                progress.update(i as u64 + 1, i as u64 + 1);
            }
            row.wall = t0.elapsed();
            all.wall += row.wall;
            progress.finish(row.requests, row.requests);
            for b in bad {
                self.problem(b);
            }
            shape_rows.push(row);
        }
        all.note = format!(
            "{} query shapes x {r} requests on a table of {total} jobs; items = rows returned",
            shape_rows.len()
        );
        rows.push(all);
        rows.extend(shape_rows);
        Ok(rows)
    }

    // ---------------------------------------------------------------- bulk patch

    /// PATCHes every working-set job to `state`, then checks the count; returns the wall
    /// time of the PATCHes alone.
    async fn patch_work_set(
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

    async fn count(&self, query: &str) -> Result<u64> {
        let path = format!("jobs/?{query}&limit=0&offset=0");
        let reply = self
            .api()?
            .call(Method::GET, &path, Body::None, 200)
            .await?;
        reply.json()?["count"]
            .as_u64()
            .ok_or_else(|| anyhow!("GET /{path}: no count: {}", excerpt(&reply.body)))
    }

    // ---------------------------------------------------------------- acquire

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
            let reply = api
                .call(
                    Method::POST,
                    "sessions/",
                    Body::json(&json!({"site_id": site, "batch_job_id": null})),
                    201,
                )
                .await
                .context("POST /sessions/")?;
            sessions.push(id_of(&reply.json()?).context("Session response")?);
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

    // ---------------------------------------------------------------- state counts

    pub async fn state_counts(&mut self) -> Result<Vec<Row>> {
        let api = self.api()?.clone();
        let mut row = Row::new("state-counts");
        let r = self.args.state_count_requests.max(1);
        let progress = Progress::new("state-counts", Some(r), "requests", self.args.quiet);
        let t0 = Instant::now();
        for i in 0..r {
            self.check_deadline()?;
            let reply = api
                .send(Method::GET, "jobs/state-counts", Body::None)
                .await?;
            if i == 0 && matches!(reply.status, 404 | 405 | 422) {
                // 404/405 on a server without the route; 422 on upstream, which parses
                // "state-counts" as the {job_id} of GET /jobs/{job_id}.
                row.requests = 1;
                row.status = Status::NotAvailable(format!(
                    "GET /jobs/state-counts answered HTTP {} (extension not offered): {}",
                    reply.status,
                    excerpt(&reply.body)
                ));
                progress.finish(1, 1);
                return Ok(vec![row]);
            }
            if reply.status != 200 {
                bail!(
                    "GET /jobs/state-counts answered HTTP {}: {}",
                    reply.status,
                    excerpt(&reply.body)
                );
            }
            row.record(reply.elapsed);
            let body = reply.json()?;
            if i == 0 {
                row.extra = json!({"first_response": body});
            }
            progress.update(i + 1, i + 1);
        }
        row.wall = t0.elapsed();
        progress.finish(row.requests, row.requests);
        let checked = match self.check_state_counts(&row.extra["first_response"])? {
            true => "checked against the known states",
            false => "answer shape not recognised, not checked",
        };
        row.note = format!(
            "GET /jobs/state-counts on a table of {} jobs ({checked})",
            self.total_jobs()
        );
        Ok(vec![row])
    }

    /// balsam-rs answers `[{"site_id": S, "counts": {"STATE": n, ...}}, ...]`. When the
    /// answer has that shape, our Site's counts must match what this run did.
    fn check_state_counts(&mut self, body: &Value) -> Result<bool> {
        let site = self.site()?;
        let list = match body {
            Value::Array(a) => a,
            Value::Object(o) => match o.get("results") {
                Some(Value::Array(a)) => a,
                _ => return Ok(false),
            },
            _ => return Ok(false),
        };
        let Some(entry) = list.iter().find(|e| e["site_id"].as_i64() == Some(site)) else {
            if list
                .iter()
                .all(|e| e["site_id"].is_i64() && e["counts"].is_object())
            {
                if self.total_jobs() > 0 {
                    self.problem(format!(
                        "GET /jobs/state-counts has no entry for site {site}: {}",
                        excerpt(&body.to_string())
                    ));
                }
                return Ok(true);
            }
            return Ok(false);
        };
        let Some(counts) = entry["counts"].as_object() else {
            return Ok(false);
        };
        let mut expected: HashMap<&str, u64> = HashMap::new();
        let work = self.work_ids.len() as u64;
        *expected.entry(self.work_state).or_default() += work;
        *expected.entry("STAGED_IN").or_default() += self.total_jobs() - work;
        expected.retain(|_, n| *n > 0);
        let mut got: HashMap<&str, u64> = HashMap::new();
        for (state, n) in counts {
            let n = n.as_u64().unwrap_or(u64::MAX);
            if n != 0 {
                got.insert(state.as_str(), n);
            }
        }
        if got != expected {
            self.problem(format!(
                "GET /jobs/state-counts for site {site}: {} (expected {})",
                Value::Object(counts.clone()),
                json!(expected)
            ));
        }
        Ok(true)
    }
}

// -------------------------------------------------------------------- launchers

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

#[allow(clippy::too_many_arguments)]
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
        let jobs = reply.json()?;
        let jobs = jobs.as_array().ok_or_else(|| {
            anyhow!(
                "POST /{path} did not answer a JSON array: {}",
                excerpt(&reply.body)
            )
        })?;
        if jobs.is_empty() {
            return Ok(());
        }
        let mut ids = Vec::with_capacity(jobs.len());
        for job in jobs {
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

// -------------------------------------------------------------------- helpers

enum Check {
    None,
    State(&'static str),
    Kind(&'static str),
    NonIncreasingLastUpdate,
}

impl Check {
    fn verify(&self, results: &[Value]) -> Option<String> {
        match self {
            Check::None => None,
            Check::State(s) => results
                .iter()
                .find(|j| j["state"] != *s)
                .map(|j| format!("a result is not {s}: {}", excerpt(&j.to_string()))),
            Check::Kind(k) => results
                .iter()
                .find(|j| j["tags"]["kind"] != *k)
                .map(|j| format!("a result lacks tag kind={k}: {}", excerpt(&j.to_string()))),
            Check::NonIncreasingLastUpdate => {
                // Compare as text only when every value has the same shape (isoformat
                // omits zero microseconds, so lengths can differ).
                let stamps: Vec<&str> = results
                    .iter()
                    .filter_map(|j| j["last_update"].as_str())
                    .collect();
                if stamps.len() != results.len() {
                    return Some("a result has no last_update".into());
                }
                let same_len = stamps.windows(2).all(|w| w[0].len() == w[1].len());
                if same_len {
                    if let Some(w) = stamps.windows(2).find(|w| w[0] < w[1]) {
                        return Some(format!(
                            "ordering=-last_update is not descending: {} before {}",
                            w[0], w[1]
                        ));
                    }
                }
                None
            }
        }
    }
}

fn id_of(v: &Value) -> Result<i64> {
    v["id"]
        .as_i64()
        .ok_or_else(|| anyhow!("no integer id in {}", excerpt(&v.to_string())))
}

/// `n` distinct ids spread over `all`, shifted by `round` so requests differ.
fn sample_ids(all: &[i64], n: usize, round: usize) -> Vec<i64> {
    if all.len() <= n {
        return all.to_vec();
    }
    let step = all.len() / n;
    let start = round % step;
    (0..n).map(|j| all[start + j * step]).collect()
}

fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        s.to_string()
    } else {
        format!("{}...", &s[..max])
    }
}

fn unique_suffix() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{}_{}_{:06}",
        now.as_secs(),
        std::process::id(),
        now.subsec_micros()
    )
}

/// Current UTC time as naive ISO-8601 with microseconds (the client's `state_timestamp`).
fn utc_now_naive() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format_naive_utc(d.as_secs(), d.subsec_micros())
}

fn format_naive_utc(secs: u64, micros: u32) -> String {
    let days = (secs / 86_400) as i64;
    let sod = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// One job of the bench: every field the client's Job.save()/bulk_create sends.
pub(crate) fn job_body(index: u64, batch_tag: u64, app_id: i64) -> Value {
    let kind = if index % 2 == 0 { "even" } else { "odd" };
    json!({
        "workdir": format!("bench/{index}"),
        "tags": {"batch": batch_tag.to_string(), "kind": kind},
        "serialized_parameters": "",
        "data": {},
        "return_code": null,
        "num_nodes": 1,
        "ranks_per_node": 1,
        "threads_per_rank": 1,
        "threads_per_core": 1,
        "launch_params": {},
        "gpus_per_rank": 0.0,
        "node_packing_count": 1,
        "wall_time_min": 0,
        "app_id": app_id,
        "parent_ids": [],
        "transfers": {},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naive_utc_formatting() {
        assert_eq!(format_naive_utc(0, 0), "1970-01-01T00:00:00.000000");
        assert_eq!(
            format_naive_utc(951_782_400, 5),
            "2000-02-29T00:00:00.000005"
        );
        assert_eq!(
            format_naive_utc(1_798_761_599, 999_999),
            "2026-12-31T23:59:59.999999"
        );
    }

    #[test]
    fn sampled_ids_are_distinct() {
        let all: Vec<i64> = (1..=10_000).collect();
        let s = sample_ids(&all, 500, 3);
        assert_eq!(s.len(), 500);
        assert_eq!(s.iter().collect::<HashSet<_>>().len(), 500);
        assert_eq!(sample_ids(&all[..10], 500, 0).len(), 10);
    }

    #[test]
    fn acquire_body_matches_the_serial_launcher() {
        let b = acquire_body(256);
        assert_eq!(b["max_num_jobs"], 256);
        assert_eq!(b["states"], json!(["PREPROCESSED", "RESTART_READY"]));
        assert!(b["max_aggregate_nodes"].is_null() && b["sort_by"].is_null());
    }
}
