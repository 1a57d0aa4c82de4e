//! The `ws` scenario: event delivery over `/subscribe-user` (docs/realtime.md).
//!
//! `--ws-subscribers` sockets of the bench user say `{"op":"hello","token":…,"last_seq":null}`
//! and wait for `welcome`. Then the tool creates `--ws-jobs` jobs and PATCHes them
//! (STAGED_IN -> PREPROCESSED), `--batch` per call, one call at a time (the PATCHes
//! `--ws-patch-writers` at a time when that is above 1: the phase is then checked as one
//! call). After every call
//! it reads the user's log head (`X-Balsam-Seq` of `GET /sites/`), so each call owns the
//! seq range (head before, head after]. Delivery latency of a call at a subscriber is the
//! time from the call's HTTP response (body read) to the arrival of the call's last
//! event frame there. At the end every subscriber must have received every seq from
//! its welcome to the final head exactly once and in order, and every job of every call
//! exactly once in that call's `job` frames.
//!
//! Against a server without our protocol (upstream closes the socket with 1008 when the
//! first frame is not a JWT; other servers answer the upgrade with 404) the row is n/a.

use super::{id_of, Ctx};
use crate::api::{excerpt, Body};
use crate::report::{say, Progress, Row, Status};
use anyhow::{anyhow, bail, Context, Result};
use futures::StreamExt;

use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

mod report;
mod socket;

use socket::{connect, subscribe_url, subscriber, Call, Connect, Skims, Target};

impl Ctx {
    /// The user's event-log head, from the `X-Balsam-Seq` header of a small list.
    async fn log_head(&self) -> Result<i64> {
        let reply = self
            .api()?
            .call(Method::GET, "sites/", Body::None, 200)
            .await?;
        reply
            .seq
            .ok_or_else(|| anyhow!("GET /sites/ has no X-Balsam-Seq header"))
    }

    pub async fn ws(&mut self) -> Result<Vec<Row>> {
        let url = subscribe_url(&self.args.url)?;
        let n_subs = self.args.ws_subscribers;
        let mut connect_row = Row::new("ws/connect");

        // Probe with one socket: whether the protocol is offered at all.
        let t_connect = Instant::now();
        let mut sockets = Vec::with_capacity(n_subs);
        let mut welcome_seqs = Vec::with_capacity(n_subs);
        match connect(&url, &self.token).await {
            Connect::Welcome { socket, seq, took } => {
                connect_row.record(took);
                sockets.push(socket);
                welcome_seqs.push(seq);
            }
            Connect::NotOffered(why) => {
                let mut row = Row::new("ws");
                row.status = Status::NotAvailable(format!(
                    "{why}: no sequenced event stream here (upstream's stream carries no job events at all)"
                ));
                say(&format!("[ws] n/a: {why}"));
                return Ok(vec![row]);
            }
            Connect::Failed(why) => bail!("subscriber 0: {why}"),
        }
        for i in 1..n_subs {
            self.check_deadline()?;
            match connect(&url, &self.token).await {
                Connect::Welcome { socket, seq, took } => {
                    connect_row.record(took);
                    sockets.push(socket);
                    welcome_seqs.push(seq);
                }
                Connect::NotOffered(why) | Connect::Failed(why) => {
                    bail!("subscriber {i}: {why}")
                }
            }
        }
        connect_row.wall = t_connect.elapsed();
        connect_row.note =
            format!("{n_subs} sockets, one after another: connect, hello, welcome ({url})");

        let head0 = self.log_head().await.context("reading the log head")?;
        for (i, s) in welcome_seqs.iter().enumerate() {
            if *s != head0 {
                self.problem(format!(
                    "subscriber {i}: welcome seq {s}, but the log head (X-Balsam-Seq) is {head0} with no change in between"
                ));
            }
        }

        let (target_tx, target_rx) = watch::channel::<Target>(None);
        let skims = Arc::new(Skims::new(sockets.len()));
        let readers: Vec<_> = sockets
            .into_iter()
            .map(|s| tokio::spawn(subscriber(s, target_rx.clone(), skims.clone())))
            .collect();
        drop(target_rx);

        // The changes: bulk-creates, then bulk-PATCHes of the same jobs.
        let api = self.api()?.clone();
        let app_id = self
            .app_id
            .ok_or_else(|| anyhow!("setup did not complete"))?;
        let (n, batch) = (self.args.ws_jobs, self.args.batch);
        let mut calls_row = Row::new("ws/calls");
        calls_row.items = Some(0);
        let mut calls: Vec<Call> = Vec::new();
        let progress = Progress::new("ws", Some(2 * n), "jobs", self.args.quiet);
        let t0 = Instant::now();
        // --ws-rate: call k starts at t0 + k * batch / rate (or at once when late).
        let slot = (self.args.ws_rate > 0)
            .then(|| Duration::from_secs_f64(batch as f64 / self.args.ws_rate as f64));
        let mut next_slot = t0;
        let mut pace = move || {
            let wait = next_slot.saturating_duration_since(Instant::now());
            if let Some(slot) = slot {
                next_slot += slot;
            }
            async move {
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
            }
        };
        let mut head = head0;
        let mut created: Vec<i64> = Vec::with_capacity(n as usize);
        let changes: Result<()> = async {
            while (created.len() as u64) < n {
                self.check_deadline()?;
                pace().await;
                let count = batch.min(n - created.len() as u64);
                let first = self.next_index;
                let tag = self.next_batch_tag;
                let body: Vec<Value> = (first..first + count)
                    .map(|i| super::job_body(i, tag, app_id))
                    .collect();
                let sent = Instant::now();
                let reply = api
                    .call(Method::POST, "jobs/", Body::json(&Value::Array(body)), 201)
                    .await
                    .with_context(|| format!("POST /jobs/ with {count} jobs"))?;
                let responded = Instant::now();
                calls_row.record(reply.elapsed);
                calls_row.add_items(count);
                let jobs = reply.json()?;
                let ids = jobs
                    .as_array()
                    .ok_or_else(|| {
                        anyhow!(
                            "POST /jobs/ did not answer a list: {}",
                            excerpt(&reply.body)
                        )
                    })?
                    .iter()
                    .map(id_of)
                    .collect::<Result<Vec<i64>>>()?;
                if ids.len() as u64 != count {
                    bail!("POST /jobs/ with {count} jobs answered {} jobs", ids.len());
                }
                self.next_index += count;
                self.next_batch_tag += 1;
                self.all_ids.extend(&ids);
                self.even_jobs += (first..first + count).filter(|i| i % 2 == 0).count() as u64;
                created.extend(&ids);
                let hi = self.log_head().await?;
                calls.push(Call {
                    create: true,
                    ids,
                    sent,
                    took: vec![reply.elapsed],
                    responded,
                    lo: head,
                    hi,
                });
                head = hi;
                progress.update(created.len() as u64, calls.len() as u64);
            }
            let mut patched = 0u64;
            let writers = self.args.ws_patch_writers.max(1);
            if writers > 1 {
                // --ws-patch-writers: the PATCHes run `writers` at a time, like the SDK's
                // thread pool in bulk-patch. Their seqs interleave, so the phase is one
                // Call: its seq range and all its jobs are checked as a whole.
                let ctx = &*self;
                let sent = Instant::now();
                let mut replies =
                    futures::stream::iter(created.chunks(batch as usize).map(|chunk| {
                        let api = api.clone();
                        async move {
                            ctx.check_deadline()?;
                            let reply = patch_to_preprocessed(&api, chunk).await?;
                            Ok::<_, anyhow::Error>((chunk.len() as u64, reply.elapsed))
                        }
                    }))
                    .buffered(writers);
                let mut took = Vec::new();
                while let Some(reply) = replies.next().await {
                    let (count, elapsed) = reply?;
                    calls_row.record(elapsed);
                    calls_row.add_items(count);
                    took.push(elapsed);
                    patched += count;
                    progress.update(n + patched, calls.len() as u64 + took.len() as u64);
                }
                let responded = Instant::now();
                let hi = self.log_head().await?;
                calls.push(Call {
                    create: false,
                    ids: created.clone(),
                    sent,
                    took,
                    responded,
                    lo: head,
                    hi,
                });
                head = hi;
            } else {
                for chunk in created.chunks(batch as usize) {
                    self.check_deadline()?;
                    pace().await;
                    let sent = Instant::now();
                    let reply = patch_to_preprocessed(&api, chunk).await?;
                    let responded = Instant::now();
                    calls_row.record(reply.elapsed);
                    calls_row.add_items(chunk.len() as u64);
                    let hi = self.log_head().await?;
                    calls.push(Call {
                        create: false,
                        ids: chunk.to_vec(),
                        sent,
                        took: vec![reply.elapsed],
                        responded,
                        lo: head,
                        hi,
                    });
                    head = hi;
                    patched += chunk.len() as u64;
                    progress.update(n + patched, calls.len() as u64);
                }
            }
            Ok(())
        }
        .await;
        let changes_done = Instant::now();
        calls_row.wall = changes_done - t0;
        progress.finish(2 * n, calls.len() as u64);
        if let Err(e) = changes {
            drop(target_tx);
            for r in readers {
                let _ = r.await;
            }
            return Err(e);
        }

        // Wait for every subscriber to receive the final head.
        let final_head = head;
        let wait_deadline = tokio::time::Instant::now() + Duration::from_secs(self.args.ws_timeout);
        let _ = target_tx.send(Some((final_head, wait_deadline)));
        let mut outcomes = Vec::with_capacity(readers.len());
        for r in readers {
            outcomes.push(
                r.await
                    .map_err(|e| anyhow!("subscriber task panicked: {e}"))?,
            );
        }
        drop(target_tx);

        self.ws_report(
            t0,
            changes_done,
            connect_row,
            calls_row,
            &calls,
            &welcome_seqs,
            final_head,
            outcomes,
        )
    }
}

/// One PATCH of the `ws` scenario: `chunk` STAGED_IN -> PREPROCESSED, checked to answer
/// the number of jobs it updated.
async fn patch_to_preprocessed(api: &crate::api::Api, chunk: &[i64]) -> Result<crate::api::Reply> {
    let body: Vec<Value> = chunk
        .iter()
        .map(|id| json!({"id": id, "state": "PREPROCESSED", "state_data": {}}))
        .collect();
    let reply = api
        .call(Method::PATCH, "jobs/", Body::json(&Value::Array(body)), 200)
        .await
        .with_context(|| format!("PATCH /jobs/ with {} patches", chunk.len()))?;
    if reply.json()?.as_u64() != Some(chunk.len() as u64) {
        bail!(
            "PATCH /jobs/ with {} patches answered {} (expected that integer)",
            chunk.len(),
            excerpt(&reply.body)
        );
    }
    Ok(reply)
}
