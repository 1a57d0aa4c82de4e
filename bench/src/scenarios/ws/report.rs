//! The `ws` scenario's verdict: every subscriber got every seq from its welcome to the
//! final head exactly once and in order, and every job of every call; latency rows.

use crate::report::{Row, Status};
use crate::scenarios::Ctx;
use anyhow::Result;
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::socket::{Call, Received, SubscriberOutcome};

impl Ctx {
    #[expect(
        clippy::too_many_arguments,
        reason = "one call site; the parts of a run are named where they are made"
    )]
    pub(super) fn ws_report(
        &mut self,
        t0: Instant,
        changes_done: Instant,
        connect_row: Row,
        mut calls_row: Row,
        calls: &[Call],
        welcome_seqs: &[i64],
        final_head: i64,
        outcomes: Vec<SubscriberOutcome>,
    ) -> Result<Vec<Row>> {
        let mut row = Row::new("ws");
        row.items = Some(0);
        let mut early = 0u64;
        let mut first_latencies: Vec<Duration> = Vec::new();
        let mut per_sub = Vec::new();
        let mut errors = Vec::new();
        let mut last_arrival = changes_done;
        let mut sub_rates: Vec<(f64, f64)> = Vec::new();
        let mut seq_problems = 0u64;
        let mut job_problems = 0u64;
        let empty_calls = calls.iter().filter(|c| c.hi <= c.lo).count();
        if empty_calls > 0 {
            self.problem(format!(
                "{empty_calls} of {} calls moved the log head (X-Balsam-Seq) by nothing",
                calls.len()
            ));
        }

        // The PATCH phase, end to end: from its first call sent to its last call's last
        // frame at the last subscriber.
        let patch_calls: Vec<&Call> = calls.iter().filter(|c| !c.create).collect();
        let mut patches_delivered: Option<Instant> = None;

        for (s, o) in outcomes.iter().enumerate() {
            if let Some(e) = &o.error {
                errors.push(format!("subscriber {s}: {e}"));
            }
            // Every seq from the welcome to the final head, once, in order.
            let expected_first = welcome_seqs[s] + 1;
            let seqs: Vec<i64> = o.frames.iter().map(|f| f.seq).collect();
            let want: Vec<i64> = (expected_first..=final_head).collect();
            if seqs != want {
                seq_problems += 1;
                let mut seen: HashMap<i64, u32> = HashMap::new();
                for q in &seqs {
                    *seen.entry(*q).or_default() += 1;
                }
                let dups = seen.values().filter(|c| **c > 1).count();
                let missing = want.iter().filter(|q| !seen.contains_key(q)).count();
                let unordered = seqs.windows(2).filter(|w| w[1] <= w[0]).count();
                let foreign = seen
                    .keys()
                    .filter(|q| **q < expected_first || **q > final_head)
                    .count();
                self.problem(format!(
                    "subscriber {s}: received {} event frames, expected seqs {expected_first}..={final_head} ({}): {missing} missing, {dups} duplicated, {unordered} out of order, {foreign} outside the range",
                    seqs.len(),
                    want.len()
                ));
            }

            // Per call: every job exactly once, and the delivery latency.
            let mut by_seq: HashMap<i64, usize> = HashMap::with_capacity(o.frames.len());
            for (i, f) in o.frames.iter().enumerate() {
                by_seq.entry(f.seq).or_insert(i);
            }
            let mut jobs_received = 0u64;
            for f in &o.frames {
                if f.kind == "job" {
                    jobs_received += f.items;
                }
            }
            for (c_i, c) in calls.iter().enumerate() {
                let frames: Vec<&Received> = ((c.lo + 1)..=c.hi)
                    .filter_map(|q| by_seq.get(&q).map(|i| &o.frames[*i]))
                    .collect();
                if frames.len() as i64 != c.hi - c.lo {
                    // Counted by the seq check above.
                    continue;
                }
                let want_action = if c.create {
                    "bulk-create"
                } else {
                    "bulk-update"
                };
                let mut got: Vec<i64> = frames
                    .iter()
                    .filter(|f| f.kind == "job" && f.action == want_action)
                    .flat_map(|f| f.ids.iter().copied())
                    .collect();
                got.sort_unstable();
                let mut want_ids = c.ids.clone();
                want_ids.sort_unstable();
                if got != want_ids {
                    job_problems += 1;
                    if job_problems <= 3 {
                        self.problem(format!(
                            "subscriber {s}, call {c_i} ({} of {} jobs): its job {want_action} frames carry {} job instances ({} distinct), expected exactly the call's {} jobs",
                            if c.create { "POST" } else { "PATCH" },
                            c.ids.len(),
                            got.len(),
                            { let mut d = got.clone(); d.dedup(); d.len() },
                            want_ids.len()
                        ));
                    }
                }
                let first = frames.iter().map(|f| f.at).min();
                let last = frames.iter().map(|f| f.at).max();
                if let (Some(first), Some(last)) = (first, last) {
                    if last < c.responded {
                        early += 1;
                    }
                    row.record(last.saturating_duration_since(c.responded));
                    first_latencies.push(first.saturating_duration_since(c.responded));
                }
            }
            if let Some(last_patch) = patch_calls.last() {
                let at = ((last_patch.lo + 1)..=last_patch.hi)
                    .filter_map(|q| by_seq.get(&q).map(|i| o.frames[*i].at))
                    .max();
                patches_delivered = patches_delivered.max(at);
            }
            let sub_last = o.frames.iter().map(|f| f.at).max().unwrap_or(changes_done);
            last_arrival = last_arrival.max(sub_last);
            let secs = (sub_last - t0).as_secs_f64();
            let (eps, jps) = if secs > 0.0 {
                (o.frames.len() as f64 / secs, jobs_received as f64 / secs)
            } else {
                (0.0, 0.0)
            };
            sub_rates.push((eps, jps));
            row.add_items(jobs_received);
            per_sub.push(json!({
                "subscriber": s,
                "welcome_seq": welcome_seqs[s],
                "events": o.frames.len(),
                "job_instances": jobs_received,
                "bytes": o.bytes,
                "heartbeats": o.heartbeats,
                "events_per_s": (eps * 10.0).round() / 10.0,
                "job_instances_per_s": jps.round(),
                "error": o.error,
            }));
        }
        if job_problems > 3 {
            self.problem(format!(
                "({job_problems} subscriber×call job-instance mismatches in all)"
            ));
        }
        let events_total: u64 = outcomes.iter().map(|o| o.frames.len() as u64).sum();
        row.requests = events_total;
        row.wall = last_arrival - t0;
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let eps: Vec<f64> = sub_rates.iter().map(|r| r.0).collect();
        let jps: Vec<f64> = sub_rates.iter().map(|r| r.1).collect();
        let minmax = |v: &[f64]| {
            (
                v.iter().copied().fold(f64::INFINITY, f64::min),
                v.iter().copied().fold(0.0, f64::max),
            )
        };
        let (emin, emax) = minmax(&eps);
        let (jmin, jmax) = minmax(&jps);
        let pct = |v: &mut Vec<Duration>, p: f64| -> f64 {
            if v.is_empty() {
                return 0.0;
            }
            v.sort_unstable();
            let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
            v[rank.clamp(1, v.len()) - 1].as_secs_f64() * 1000.0
        };
        let first_p50 = pct(&mut first_latencies, 50.0);
        let first_p99 = pct(&mut first_latencies, 99.0);
        let n_subs = outcomes.len();
        let creates = calls.iter().filter(|c| c.create).count();
        row.note = format!(
            "{n_subs} subscribers; {creates} POST + {} PATCH /jobs/ calls; requests = event frames received, items = job instances received (all subscribers); latency = call's HTTP response -> its last event frame at a subscriber ({} samples; first frame p50 {first_p50:.1} ms, p99 {first_p99:.1} ms; {early} of them complete before the response was read, counted as 0); per subscriber {:.1} events/s ({emin:.1}..{emax:.1}), {:.0} jobs/s ({jmin:.0}..{jmax:.0}); every seq {}..={final_head} {}",
            calls.len() - creates,
            row.latencies.len(),
            mean(&eps),
            mean(&jps),
            welcome_seqs.first().map_or(0, |w| w + 1),
            if seq_problems == 0 && job_problems == 0 && errors.is_empty() {
                "received once and in order by every subscriber, every job once per call"
            } else {
                "NOT delivered as expected (see the check failures)"
            }
        );
        row.extra = json!({
            "subscribers": per_sub,
            "final_head": final_head,
            "events_per_call": calls.iter().map(|c| c.hi - c.lo).collect::<Vec<_>>(),
            "first_frame_p50_ms": (first_p50 * 1000.0).round() / 1000.0,
            "first_frame_p99_ms": (first_p99 * 1000.0).round() / 1000.0,
            "frames_before_response": early,
        });
        calls_row.note = format!(
            "the changes made while {n_subs} subscribers listened: POST /jobs/ then PATCH /jobs/ (-> PREPROCESSED) x{} per call; wall includes a GET /sites/ per call (log head)",
            self.args.batch
        );
        if let Some(e) = errors.first() {
            row.status = Status::Failed(format!("{e} ({} subscriber(s) failed)", errors.len()));
            for e in &errors {
                self.problem(e.clone());
            }
        }
        let patches_row = patches_row(&patch_calls, patches_delivered, n_subs);
        Ok(vec![row, connect_row, calls_row, patches_row])
    }
}

/// `ws/patches`: the job updates of the PATCH calls, from the first call sent to the last
/// call's last frame at the last subscriber (so the rate counts only updates every
/// subscriber has received); latency = each PATCH's HTTP exchange.
fn patches_row(patch_calls: &[&Call], delivered: Option<Instant>, n_subs: usize) -> Row {
    let mut row = Row::new("ws/patches");
    row.items = Some(0);
    for c in patch_calls {
        for t in &c.took {
            row.record(*t);
        }
        row.add_items(c.ids.len() as u64);
    }
    if let (Some(first), Some(end)) = (patch_calls.first(), delivered) {
        row.wall = end.saturating_duration_since(first.sent);
    }
    row.note = format!(
        "state-changing PATCHes (-> PREPROCESSED, with their LogEvents), {}: first PATCH sent -> the last PATCH's last frame at the last of {n_subs} subscribers; items/s = job updates delivered to every subscriber; wall includes a GET /sites/ per call",
        match patch_calls {
            [one] if one.took.len() > 1 => format!("{} calls, several in flight (--ws-patch-writers)", one.took.len()),
            _ => "one call at a time".to_owned(),
        }
    );
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: i64, at: Instant, kind: &str, action: &str, ids: &[i64]) -> Received {
        Received {
            seq,
            at,
            kind: kind.into(),
            action: action.into(),
            items: ids.len() as u64,
            ids: ids.to_vec(),
        }
    }

    /// A context with default arguments and an API nothing listens on (the report makes
    /// no calls).
    fn test_ctx() -> Ctx {
        use clap::Parser;
        let args = crate::Args::parse_from(["balsam-bench"]);
        let api =
            crate::api::Api::new("http://127.0.0.1:9/api/v1", Duration::from_secs(1), 1).unwrap();
        Ctx::new(args, api, Instant::now() + Duration::from_secs(60))
    }

    #[test]
    fn the_report_checks_seqs_and_job_ids() {
        let mut ctx = test_ctx();
        let t0 = Instant::now();
        let later = t0 + Duration::from_millis(30);
        // Two calls: a create of jobs 1,2 (seqs 11, 12) and a patch of them (seq 13), spelled
        // out as test data (they look alike on purpose).
        let calls = vec![
            Call {
                create: true,
                ids: vec![1, 2],
                sent: t0,
                took: vec![Duration::from_millis(10)],
                responded: t0 + Duration::from_millis(10),
                lo: 10,
                hi: 12,
            },
            Call {
                create: false,
                ids: vec![1, 2],
                sent: t0 + Duration::from_millis(12),
                took: vec![Duration::from_millis(8)],
                responded: t0 + Duration::from_millis(20),
                lo: 12,
                hi: 13,
            },
        ];
        // Every case reports the same calls, up to head 13.
        let report = |ctx: &mut Ctx, welcomes: &[i64], outcomes: Vec<SubscriberOutcome>| {
            let (connect, calls_row) = (Row::new("ws/connect"), Row::new("ws/calls"));
            ctx.ws_report(
                t0, later, connect, calls_row, &calls, welcomes, 13, outcomes,
            )
            .unwrap()
        };
        let good = SubscriberOutcome {
            frames: vec![
                frame(11, later, "job", "bulk-create", &[1, 2]),
                frame(12, later, "log_event", "bulk-create", &[100, 101]),
                frame(13, later, "job", "bulk-update", &[1, 2]),
            ],
            ..Default::default()
        };
        let rows = report(&mut ctx, &[10], vec![good]);
        assert!(ctx.problems.is_empty(), "{:?}", ctx.problems);
        assert_eq!(
            rows[0].latencies,
            vec![Duration::from_millis(20), Duration::from_millis(10)]
        );
        assert_eq!((rows[0].requests, rows[0].items), (3, Some(4)));
        // The PATCH phase: sent at 12 ms, its frame at the (only) subscriber at 30 ms.
        let patches = &rows[3];
        assert_eq!(patches.name, "ws/patches");
        assert_eq!(
            (patches.items, patches.wall, patches.latencies.clone()),
            (
                Some(2),
                Duration::from_millis(18),
                vec![Duration::from_millis(8)]
            )
        );

        let duplicated = SubscriberOutcome {
            frames: vec![
                frame(11, later, "job", "bulk-create", &[1, 2]),
                frame(11, later, "job", "bulk-create", &[1, 2]),
                frame(12, later, "log_event", "bulk-create", &[100, 101]),
                frame(13, later, "job", "bulk-update", &[1, 2]),
            ],
            ..Default::default()
        };
        let missing = SubscriberOutcome {
            frames: vec![
                frame(11, later, "job", "bulk-create", &[1, 2]),
                frame(13, later, "job", "bulk-update", &[1, 2]),
            ],
            ..Default::default()
        };
        let wrong_jobs = SubscriberOutcome {
            frames: vec![
                frame(11, later, "job", "bulk-create", &[1]),
                frame(12, later, "log_event", "bulk-create", &[100, 101]),
                frame(13, later, "job", "bulk-update", &[1, 2, 2]),
            ],
            ..Default::default()
        };
        let rows = report(
            &mut ctx,
            &[10, 10, 10],
            vec![duplicated, missing, wrong_jobs],
        );
        let all = ctx.problems.join("\n");
        assert!(
            all.contains("subscriber 0") && all.contains("1 duplicated"),
            "{all}"
        );
        assert!(
            all.contains("subscriber 1") && all.contains("1 missing"),
            "{all}"
        );
        assert!(
            all.contains("subscriber 2, call 0") && all.contains("subscriber 2, call 1"),
            "{all}"
        );
        assert!(rows[0].note.contains("NOT delivered"), "{}", rows[0].note);
    }

    #[test]
    fn a_concurrent_patch_phase_is_checked_as_one_call() {
        let mut ctx = test_ctx();
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        // A create of jobs 1..=4 (seq 11), then two PATCHes in flight at once (jobs 1,2 and
        // 3,4) whose events came out as seqs 12 and 13 in the other order.
        let calls = vec![
            Call {
                create: true,
                ids: vec![1, 2, 3, 4],
                sent: t0,
                took: vec![Duration::from_millis(10)],
                responded: at(10),
                lo: 10,
                hi: 11,
            },
            Call {
                create: false,
                ids: vec![1, 2, 3, 4],
                sent: at(12),
                took: vec![Duration::from_millis(9), Duration::from_millis(7)],
                responded: at(22),
                lo: 11,
                hi: 13,
            },
        ];
        let report = |ctx: &mut Ctx, frames: Vec<Received>| {
            let (connect, calls_row) = (Row::new("ws/connect"), Row::new("ws/calls"));
            let outcome = SubscriberOutcome {
                frames,
                ..Default::default()
            };
            ctx.ws_report(
                t0,
                at(22),
                connect,
                calls_row,
                &calls,
                &[10],
                13,
                vec![outcome],
            )
            .unwrap()
        };
        let rows = report(
            &mut ctx,
            vec![
                frame(11, at(11), "job", "bulk-create", &[1, 2, 3, 4]),
                frame(12, at(20), "job", "bulk-update", &[3, 4]),
                frame(13, at(25), "job", "bulk-update", &[1, 2]),
            ],
        );
        assert!(ctx.problems.is_empty(), "{:?}", ctx.problems);
        let patches = &rows[3];
        assert_eq!(
            (patches.items, patches.wall, patches.latencies.clone()),
            (
                Some(4),
                Duration::from_millis(13),
                vec![Duration::from_millis(9), Duration::from_millis(7)]
            )
        );
        assert!(
            patches.note.contains("2 calls, several in flight"),
            "{}",
            patches.note
        );
        // A job of the phase missing from its frames is caught.
        report(
            &mut ctx,
            vec![
                frame(11, at(11), "job", "bulk-create", &[1, 2, 3, 4]),
                frame(12, at(20), "job", "bulk-update", &[3, 4]),
                frame(13, at(25), "job", "bulk-update", &[1]),
            ],
        );
        let all = ctx.problems.join("\n");
        assert!(all.contains("subscriber 0, call 1"), "{all}");
    }
}
