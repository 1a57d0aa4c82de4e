//! The scenarios. Each one returns its report rows; prerequisites it needs but that
//! were not selected (the working set of jobs, their state) are prepared untimed.
//! `Ctx` and the helpers the scenarios share live here; each scenario adds its methods to
//! `Ctx` in its own file.

use crate::api::{excerpt, Api, Body};
use crate::args::Args;
use crate::report::say;
use anyhow::{anyhow, bail, Context, Result};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod acquire;
mod bulk_create;
mod bulk_patch;
mod list;
mod setup;
mod state_counts;
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

/// POSTs `body` to `path` expecting 201; returns the new row's id and the call's time.
/// `request` names the call, `what` the row, in errors.
async fn post_for_id(
    api: &Api,
    path: &str,
    body: &Value,
    request: &str,
    what: &str,
) -> Result<(i64, Duration)> {
    let reply = api
        .call(Method::POST, path, Body::json(body), 201)
        .await
        .with_context(|| request.to_owned())?;
    let id = id_of(&reply.json()?).with_context(|| format!("{what} response"))?;
    Ok((id, reply.elapsed))
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
    use std::collections::HashSet;

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
}
