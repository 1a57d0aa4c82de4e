//! balsam-sim: a synthetic Balsam Site. It registers Sites and Apps, submits jobs and then
//! plays every Site-side role of the real agent (scheduler, queue maintainer, launchers in
//! BatchJobs, processing and transfer services), all over the REST API with the call
//! sequences of `client-usage.md` (b), so it drives any Balsam API server.
//!
//! Time is scaled: every simulated duration (run times, queue waits, service periods) is
//! divided by `--speed`, with service periods floored at 50 ms.

mod api;
mod console;
mod creator;
mod launcher;
mod monitor;
mod processing;
mod scheduler;
mod setup;
mod summary;
mod transfer;
mod updater;

pub use api::EndpointStats;
pub use summary::Summary;

use api::Api;
use clap::Parser;
use console::Console;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// A synthetic Balsam Site: registers Sites and Apps on a Balsam server, submits jobs and
/// moves them through their whole lifecycle the way a real Site agent does (scheduler,
/// BatchJobs, launcher sessions, processing and transfer services), over the REST API only.
///
/// Stops after --duration, or when all its jobs are finished with --until-done, or on
/// Ctrl-C (a second Ctrl-C exits at once). Prints a live progress line and a summary.
#[derive(Parser, Debug, Clone)]
#[command(name = "balsam-sim", version)]
pub struct Args {
    /// API root (every route lives under it).
    #[arg(
        long,
        env = "BALSAM_SIM_URL",
        default_value = "http://127.0.0.1:8000/api/v1",
        value_name = "URL"
    )]
    pub url: String,

    /// User to log in as.
    #[arg(long, env = "BALSAM_SIM_USERNAME", default_value = "sim")]
    pub username: String,

    /// Password of that user.
    #[arg(
        long,
        env = "BALSAM_SIM_PASSWORD",
        default_value = "sim-password",
        hide_env_values = true
    )]
    pub password: String,

    /// Register the user first (an already taken username is fine).
    #[arg(long)]
    pub register: bool,

    /// Number of Sites to simulate.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub sites: usize,

    /// Site names are PREFIX-1 … PREFIX-N (existing Sites of these names are reused).
    #[arg(long, default_value = "sim-site", value_name = "PREFIX")]
    pub site_prefix: String,

    /// Absolute path under which the Sites pretend to live (PATH/NAME).
    #[arg(long, default_value = "/srv/balsam-sim", value_name = "PATH")]
    pub site_path: String,

    /// Jobs to submit per Site (0: no limit, keep submitting at --rate).
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub jobs_per_site: u64,

    /// Job submission rate over all Sites, in jobs per (real) second (0: all at once).
    #[arg(long, default_value_t = 10.0, value_name = "JOBS_PER_SEC")]
    pub rate: f64,

    /// Simulated seconds per real second (run times, queue waits and periods shrink).
    #[arg(long, default_value_t = 10.0, value_name = "X")]
    pub speed: f64,

    /// Fraction of jobs whose run ends in RUN_ERROR.
    #[arg(long, default_value_t = 0.1, value_name = "P")]
    pub failure_ratio: f64,

    /// Of the jobs ending in RUN_ERROR, the fraction retried (RESTART_READY, then they
    /// succeed); the others become FAILED.
    #[arg(long, default_value_t = 0.5, value_name = "P")]
    pub retry_ratio: f64,

    /// Fraction of jobs created with parents (AWAITING_PARENTS until they finish).
    #[arg(long, default_value_t = 0.2, value_name = "P")]
    pub chain_ratio: f64,

    /// Fraction of jobs of the shell App with stage-in and stage-out transfers.
    #[arg(long, default_value_t = 0.3, value_name = "P")]
    pub transfer_ratio: f64,

    /// Nodes per BatchJob (at least 2).
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub nodes: u32,

    /// BatchJobs each Site keeps queued or running (queue maintainer target).
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub batch_jobs: usize,

    /// BatchJob wall time, in simulated minutes.
    #[arg(long, default_value_t = 20, value_name = "MIN")]
    pub wall_time_min: i64,

    /// Scheduler service period (heartbeat PUT /sites/{id}), in simulated seconds.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    pub sync_period: f64,

    /// Stop after this many real seconds (0: no limit).
    #[arg(long, default_value_t = 0, value_name = "SECS")]
    pub duration: u64,

    /// Stop as soon as every submitted job is JOB_FINISHED or FAILED (needs --jobs-per-site > 0).
    #[arg(long)]
    pub until_done: bool,

    /// Seed for the random choices (default: random).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Retries of a request after a transport error or a 5xx/429.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub retries: u32,

    /// No live progress line (warnings and the summary are still printed).
    #[arg(long, short)]
    pub quiet: bool,

    /// Off a terminal, print the progress line every SECS.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub progress_every: u64,
}

impl Args {
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.sites >= 1, "--sites must be at least 1");
        anyhow::ensure!(self.speed > 0.0, "--speed must be positive");
        anyhow::ensure!(self.rate >= 0.0, "--rate must not be negative");
        anyhow::ensure!(self.nodes >= 2, "--nodes must be at least 2");
        anyhow::ensure!(self.batch_jobs >= 1, "--batch-jobs must be at least 1");
        anyhow::ensure!(
            self.wall_time_min >= 2,
            "--wall-time-min must be at least 2"
        );
        anyhow::ensure!(self.sync_period > 0.0, "--sync-period must be positive");
        for (name, p) in [
            ("--failure-ratio", self.failure_ratio),
            ("--retry-ratio", self.retry_ratio),
            ("--chain-ratio", self.chain_ratio),
            ("--transfer-ratio", self.transfer_ratio),
        ] {
            anyhow::ensure!((0.0..=1.0).contains(&p), "{name} must be between 0 and 1");
        }
        anyhow::ensure!(
            !self.until_done || self.jobs_per_site > 0,
            "--until-done needs a finite --jobs-per-site"
        );
        anyhow::ensure!(
            self.rate > 0.0 || self.jobs_per_site > 0,
            "--rate 0 (all at once) needs a finite --jobs-per-site"
        );
        anyhow::ensure!(
            self.site_path.starts_with('/'),
            "--site-path must be absolute"
        );
        Ok(())
    }
}

/// Scaled time: simulated seconds to real durations.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    speed: f64,
}

/// Service periods never go below this, however high the speed.
const MIN_PERIOD: Duration = Duration::from_millis(50);

impl Clock {
    pub fn sim(&self, sim_secs: f64) -> Duration {
        Duration::from_secs_f64((sim_secs / self.speed).max(0.0))
    }
    /// A service period: `sim_secs` scaled, but at least `MIN_PERIOD`.
    pub fn period(&self, sim_secs: f64) -> Duration {
        self.sim(sim_secs).max(MIN_PERIOD)
    }
    /// A real duration in simulated seconds.
    pub fn to_sim(&self, real: Duration) -> f64 {
        real.as_secs_f64() * self.speed
    }
}

/// What happens to a job when it runs (decided when it is submitted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Succeed,
    /// First run ends in RUN_ERROR, the processing service retries it, the next run succeeds.
    ErrorThenRetry,
    /// Ends in RUN_ERROR and then FAILED.
    ErrorThenFail,
}

#[derive(Clone, Debug)]
pub struct JobMeta {
    pub fate: Fate,
    pub runs: u32,
}

/// One simulated Site and its two Apps.
#[derive(Clone, Debug)]
pub struct SiteInfo {
    pub index: usize,
    pub id: i64,
    pub name: String,
    pub shell_app: i64,
    pub python_app: i64,
}

/// State shared by every simulated service.
pub struct World {
    pub args: Args,
    pub clock: Clock,
    pub api: Api,
    pub console: Arc<Console>,
    pub run_tag: String,
    pub sites: Vec<SiteInfo>,
    pub jobs: Mutex<HashMap<i64, JobMeta>>,
    /// Set when the simulation should wind down.
    pub stop: watch::Receiver<bool>,
    pub next_scheduler_id: AtomicI64,
    pub created: AtomicU64,
    pub creation_done: AtomicBool,
    pub batch_jobs_running: AtomicI64,
    pub started: Instant,
}

impl World {
    pub fn is_python_app(&self, app_id: i64) -> bool {
        self.sites.iter().any(|s| s.python_app == app_id)
    }

    pub fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    pub fn seconds(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}

/// Locks a mutex, ignoring poisoning (a panicked holder cannot leave these maps invalid).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sleeps for `d`, returning early (true) when `stop` is set.
pub(crate) async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    if *stop.borrow() {
        return true;
    }
    let woke = tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = stop.wait_for(|s| *s) => true,
    };
    woke || *stop.borrow()
}

/// The current UTC time as a naive ISO-8601 string (what the agent sends as `state_timestamp`).
pub(crate) fn now_iso() -> String {
    chrono::Utc::now()
        .naive_utc()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string()
}

/// Runs the simulation until `--duration`, `--until-done`, or `interrupt` resolves, then
/// winds down cleanly (pending updates flushed, sessions deleted) and returns the summary.
pub async fn run(args: Args, interrupt: impl Future<Output = ()>) -> anyhow::Result<Summary> {
    args.validate()?;
    let console = Arc::new(Console::new(args.quiet));
    let mut api = Api::new(&args.url, args.retries, console.clone())?;
    let run_tag = format!("{:08x}", rand::random::<u32>());

    let token = setup::login(&api, &args).await?;
    api.set_token(&token)?;
    let sites = setup::sites_and_apps(&api, &args).await?;
    console.info(&format!(
        "balsam-sim: {} Site(s) at {} as {} (run {run_tag}: jobs tagged sim_run={run_tag}): {}",
        sites.len(),
        api.root(),
        args.username,
        sites
            .iter()
            .map(|s| format!("{} (id {})", s.name, s.id))
            .collect::<Vec<_>>()
            .join(", ")
    ));

    let (stop_tx, stop_rx) = watch::channel(false);
    let world = Arc::new(World {
        clock: Clock { speed: args.speed },
        api,
        console: console.clone(),
        run_tag,
        sites,
        jobs: Mutex::new(HashMap::new()),
        stop: stop_rx,
        next_scheduler_id: AtomicI64::new(i64::from(rand::random::<u16>()) * 1000 + 100_000),
        created: AtomicU64::new(0),
        creation_done: AtomicBool::new(false),
        batch_jobs_running: AtomicI64::new(0),
        started: Instant::now(),
        args,
    });

    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(creator::run(world.clone())));
    for site in world.sites.clone() {
        tasks.push(tokio::spawn(scheduler::run(world.clone(), site.clone())));
        tasks.push(tokio::spawn(processing::run(world.clone(), site.clone())));
        tasks.push(tokio::spawn(transfer::run(world.clone(), site)));
    }
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let monitor = tokio::spawn(monitor::run(world.clone(), done_tx));

    let deadline = async {
        match world.args.duration {
            0 => std::future::pending::<()>().await,
            secs => tokio::time::sleep(Duration::from_secs(secs)).await,
        }
    };
    let reason = tokio::select! {
        _ = interrupt => "interrupted",
        _ = deadline => "duration elapsed",
        Ok(()) = done_rx => "all jobs done",
    };
    console.info(&format!(
        "balsam-sim: {reason} after {:.1}s; winding down (flushing updates, deleting sessions)",
        world.seconds()
    ));
    let _ = stop_tx.send(true);
    for task in tasks {
        if let Err(e) = task.await {
            console.warn(&format!("a simulator task ended abnormally: {e}"));
        }
    }
    monitor.abort();
    let _ = monitor.await;
    console.finish_progress();
    summary::collect(&world, reason).await
}

/// Counts of the run's jobs per state, from the server.
pub(crate) async fn job_states_by_tag(world: &World) -> anyhow::Result<HashMap<String, u64>> {
    const STATES: [&str; 14] = [
        "CREATED",
        "AWAITING_PARENTS",
        "READY",
        "STAGED_IN",
        "PREPROCESSED",
        "RUNNING",
        "RUN_DONE",
        "RUN_ERROR",
        "RUN_TIMEOUT",
        "RESTART_READY",
        "POSTPROCESSED",
        "STAGED_OUT",
        "JOB_FINISHED",
        "FAILED",
    ];
    let tag = format!("sim_run:{}", world.run_tag);
    let mut out = HashMap::new();
    for state in STATES {
        let q = api::query(&[
            ("tags", tag.as_str()),
            ("state", state),
            ("limit", "0"),
            ("offset", "0"),
        ]);
        let page = world
            .api
            .call(
                "GET /jobs/ (count)",
                reqwest::Method::GET,
                &format!("jobs/?{q}"),
                None,
            )
            .await?;
        let n = page["count"].as_u64().unwrap_or(0);
        if n > 0 {
            out.insert(state.to_owned(), n);
        }
    }
    Ok(out)
}

pub(crate) fn add(counter: &AtomicI64, delta: i64) {
    counter.fetch_add(delta, Ordering::Relaxed);
}
