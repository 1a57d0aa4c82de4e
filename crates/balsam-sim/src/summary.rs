//! The end-of-run summary: the run's jobs per final state (from the server), requests and
//! errors per endpoint.

use crate::api::EndpointStats;
use crate::world::World;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Summary {
    /// Why the run stopped: "all jobs done", "duration elapsed" or "interrupted".
    pub reason: String,
    pub elapsed: Duration,
    /// Every job of the run carries the tag `sim_run=<run_tag>`.
    pub run_tag: String,
    pub site_ids: Vec<i64>,
    pub submitted: u64,
    /// The run's jobs per state at the end (states without jobs left out).
    pub final_states: BTreeMap<String, u64>,
    /// Requests per endpoint during the simulation (the final counting excluded).
    pub endpoints: BTreeMap<String, EndpointStats>,
    pub requests: u64,
    pub errors: u64,
}

impl Summary {
    pub fn jobs(&self) -> u64 {
        self.final_states.values().sum()
    }

    pub fn terminal(&self) -> u64 {
        ["JOB_FINISHED", "FAILED"]
            .iter()
            .map(|s| self.final_states.get(*s).copied().unwrap_or(0))
            .sum()
    }

    /// Every submitted job ended JOB_FINISHED or FAILED.
    pub fn all_done(&self) -> bool {
        self.jobs() > 0 && self.terminal() == self.jobs()
    }

    pub fn requests_per_sec(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }
}

pub(crate) async fn collect(world: &World, reason: &str) -> anyhow::Result<Summary> {
    let elapsed = world.started.elapsed();
    let endpoints = world.api.stats.snapshot();
    let requests = world.api.stats.requests.load(Ordering::Relaxed);
    let errors = world.api.stats.errors.load(Ordering::Relaxed);
    let final_states = job_states_by_tag(world).await?.into_iter().collect();
    Ok(Summary {
        reason: reason.to_owned(),
        elapsed,
        run_tag: world.run_tag.clone(),
        site_ids: world.sites.iter().map(|s| s.id).collect(),
        submitted: world.created.load(Ordering::Relaxed),
        final_states,
        endpoints,
        requests,
        errors,
    })
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        writeln!(
            f,
            "balsam-sim summary: run {} ({}), {:.1}s, Sites {:?}",
            self.run_tag, self.reason, secs, self.site_ids
        )?;
        writeln!(
            f,
            "  jobs: {} submitted, {} finished or failed ({:.1} jobs/s)",
            self.submitted,
            self.terminal(),
            self.terminal() as f64 / secs.max(1e-3)
        )?;
        for (state, n) in &self.final_states {
            writeln!(f, "    {state:<18} {n:>8}")?;
        }
        writeln!(
            f,
            "  requests: {} ({:.1}/s), errors: {}",
            self.requests,
            self.requests_per_sec(),
            self.errors
        )?;
        writeln!(
            f,
            "    {:<28} {:>8} {:>7} {:>9} {:>9}",
            "endpoint", "requests", "errors", "mean ms", "max ms"
        )?;
        for (label, e) in &self.endpoints {
            let mean = e.total_latency.as_secs_f64() * 1000.0 / e.requests.max(1) as f64;
            writeln!(
                f,
                "    {label:<28} {:>8} {:>7} {mean:>9.1} {:>9.1}",
                e.requests,
                e.errors,
                e.max_latency.as_secs_f64() * 1000.0
            )?;
        }
        Ok(())
    }
}

/// Counts of the run's jobs per state, from the server.
async fn job_states_by_tag(
    world: &World,
) -> anyhow::Result<std::collections::HashMap<String, u64>> {
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
    let mut out = std::collections::HashMap::new();
    for state in STATES {
        let q = crate::api::query(&[
            ("tags", tag.as_str()),
            ("state", state),
            ("limit", "0"),
            ("offset", "0"),
        ]);
        let page = world
            .api
            .get("GET /jobs/ (count)", &format!("jobs/?{q}"))
            .await?;
        let n = page["count"].as_u64().unwrap_or(0);
        if n > 0 {
            out.insert(state.to_owned(), n);
        }
    }
    Ok(out)
}
