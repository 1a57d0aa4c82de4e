//! The command line: `Args`, the `Scenario` names, and their checks (loopback only).

use anyhow::{bail, Context, Result};
use clap::{Parser, ValueEnum};
use std::net::IpAddr;
use std::path::PathBuf;

/// Benchmark a Balsam API server: bulk job creation, filtered listing on a large table,
/// bulk state updates, concurrent session acquires, state counts, and websocket delivery.
///
/// Loopback servers only. Every loop is bounded and the run stops by itself.
#[derive(Parser, Debug, Clone)]
#[command(name = "balsam-bench", version, args_override_self = true)]
pub struct Args {
    /// API root (every route lives under it).
    #[arg(
        long,
        default_value = "http://127.0.0.1:8000/api/v1",
        value_name = "URL"
    )]
    pub url: String,

    /// Scenarios to run, comma-separated. Setup always runs (the others need its user,
    /// Site and App); missing prerequisites (jobs, states) are prepared untimed.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    pub scenarios: Vec<Scenario>,

    /// bulk-create: number of jobs (they also form the working set of bulk-patch and acquire).
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    pub jobs: u64,

    /// bulk-create and bulk-patch: items per POST/PATCH call (at most 5000).
    #[arg(long, default_value_t = 1_000, value_name = "B")]
    pub batch: u64,

    /// list: grow the user's job table to this many jobs before listing (0: list what
    /// bulk-create made). The extra jobs are created in calls of --fill-batch.
    #[arg(long, default_value_t = 0, value_name = "M")]
    pub list_jobs: u64,

    /// bulk-create, bulk-patch (and the untimed preparation): calls in flight at once,
    /// like the SDK's thread pool of 4 (1: one call after another).
    #[arg(long, default_value_t = 4, value_name = "W")]
    pub writers: usize,

    /// Items per POST /jobs/ call when growing the table (and for untimed preparation).
    #[arg(long, default_value_t = 5_000, value_name = "B")]
    pub fill_batch: u64,

    /// list: requests per query shape.
    #[arg(long, default_value_t = 20, value_name = "R")]
    pub list_requests: u64,

    /// acquire: number of concurrent launchers (one Session each).
    #[arg(long, default_value_t = 4, value_name = "L")]
    pub launchers: usize,

    /// acquire: max_num_jobs per acquire call (1..2048).
    #[arg(long, default_value_t = 256, value_name = "K")]
    pub acquire_max: u64,

    /// state-counts: number of GET /jobs/state-counts requests.
    #[arg(long, default_value_t = 50, value_name = "R")]
    pub state_count_requests: u64,

    /// ws: websocket subscribers of the bench user (our sequenced protocol on
    /// /subscribe-user under --url).
    #[arg(long, default_value_t = 10, value_name = "S")]
    pub ws_subscribers: usize,

    /// ws: jobs created (and then PATCHed) while the subscribers listen, --batch per call.
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub ws_jobs: u64,

    /// ws: pace the changes at this many job updates per second (each --batch call starts
    /// on its slot, or at once when the previous call ran late); 0: one call right after
    /// another (the end-to-end throughput).
    #[arg(long, default_value_t = 0, value_name = "R")]
    pub ws_rate: u64,

    /// ws: PATCH calls in flight at once in the PATCH phase (1: one call at a time, each
    /// call's events checked on their own; more: like bulk-patch's --writers, the phase's
    /// events and jobs checked as a whole, and ws/patches is the stream at the write rate
    /// the server sustains).
    #[arg(long, default_value_t = 1, value_name = "W")]
    pub ws_patch_writers: usize,

    /// ws: seconds to wait, after the last change, for every subscriber to receive the
    /// last event.
    #[arg(long, default_value_t = 120, value_name = "SECS")]
    pub ws_timeout: u64,

    /// Write the results (and the parameters) to this JSON file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Free-form label stored in the JSON (e.g. "balsam-rs sqlite release abc123").
    #[arg(long, default_value = "")]
    pub label: String,

    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 300)]
    pub request_timeout: u64,

    /// Give up (and report what was measured) after this many seconds in total.
    #[arg(long, default_value_t = 3 * 3600)]
    pub max_duration: u64,

    /// No live progress line.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    All,
    Setup,
    BulkCreate,
    List,
    BulkPatch,
    Acquire,
    StateCounts,
    Ws,
}

impl Args {
    pub fn wants(&self, s: Scenario) -> bool {
        self.scenarios.contains(&Scenario::All) || self.scenarios.contains(&s)
    }

    pub fn validate(&self) -> Result<()> {
        for (name, v) in [("--batch", self.batch), ("--fill-batch", self.fill_batch)] {
            if !(1..=5000).contains(&v) {
                bail!("{name} must be between 1 and 5000 (MAX_ITEMS_PER_BULK_OP), got {v}");
            }
        }
        if !(1..=2048).contains(&self.acquire_max) {
            bail!(
                "--acquire-max must be between 1 and 2048, got {}",
                self.acquire_max
            );
        }
        if self.launchers == 0 || self.launchers > 64 {
            bail!("--launchers must be between 1 and 64");
        }
        if self.ws_subscribers == 0 || self.ws_subscribers > 1000 {
            bail!("--ws-subscribers must be between 1 and 1000");
        }
        if self.ws_jobs == 0 || self.ws_jobs > 1_000_000 {
            bail!("--ws-jobs must be between 1 and 1 000 000");
        }
        if self.ws_patch_writers == 0 || self.ws_patch_writers > 64 {
            bail!("--ws-patch-writers must be between 1 and 64");
        }
        if self.ws_patch_writers > 1 && self.ws_rate > 0 {
            bail!("--ws-rate paces one call at a time: use it with --ws-patch-writers 1");
        }
        if self.ws_timeout == 0 {
            bail!("--ws-timeout must be at least 1");
        }
        if self.jobs == 0 {
            bail!("--jobs must be at least 1");
        }
        if self.list_jobs > 10_000_000 {
            bail!("--list-jobs is capped at 10 000 000");
        }
        check_loopback(&self.url)
    }
}

/// The benchmark only ever talks to a server on this machine.
fn check_loopback(url: &str) -> Result<()> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("invalid --url {url}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!("--url must be http(s), got {url}");
    }
    let host = parsed.host_str().unwrap_or("");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!("refusing to benchmark {host}: only loopback servers (127.0.0.0/8, ::1, localhost)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_accepted() {
        for ok in [
            "http://127.0.0.1:8000/api/v1",
            "http://localhost:1/api/v1",
            "http://[::1]:8000/api/v1",
            "https://127.1.2.3/x",
        ] {
            assert!(check_loopback(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/api/v1",
            "http://example.com/api/v1",
            "ftp://127.0.0.1/",
        ] {
            assert!(check_loopback(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_parse_and_validate() {
        let args = Args::parse_from(["balsam-bench"]);
        assert!(args.validate().is_ok());
        assert!(args.wants(Scenario::Acquire));
        let args = Args::parse_from([
            "balsam-bench",
            "--scenarios",
            "list,acquire",
            "--jobs",
            "5",
            "--jobs",
            "7",
        ]);
        assert_eq!(args.jobs, 7);
        assert!(args.wants(Scenario::List) && !args.wants(Scenario::BulkPatch));
        let args = Args::parse_from(["balsam-bench", "--batch", "5001"]);
        assert!(args.validate().is_err());
    }
}
