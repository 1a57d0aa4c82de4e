//! What every simulated service shares: the `World` (arguments, scaled `Clock`, API client,
//! the simulated Sites and the fate of each job).

use crate::api::Api;
use crate::args::Args;
use crate::console::Console;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Scaled time: simulated seconds to real durations.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub(crate) speed: f64,
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
    pub fn to_sim(self, real: Duration) -> f64 {
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
