//! The command line: `Args` and its checks.

use clap::Parser;

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
