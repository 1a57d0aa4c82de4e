//! `state-counts`: `GET /jobs/state-counts` (a balsam-rs extension; n/a elsewhere), checked
//! against what this run did.
use super::Ctx;
use crate::api::{excerpt, Body};
use crate::report::{Progress, Row, Status};
use anyhow::{bail, Result};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Instant;

impl Ctx {
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
    pub(super) fn check_state_counts(&mut self, body: &Value) -> Result<bool> {
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
