//! `balsam-bench`: a load generator and benchmark report for any server speaking the
//! Balsam REST API (balsam-rs on SQLite or PostgreSQL, or the upstream Python server).
//!
//! It only uses the spec'd API (`/work/shared/spec/balsam-api.md`), plus the optional
//! `GET /jobs/state-counts` extension, which is reported as n/a where it is missing.
//! Every run registers a fresh user, so runs never see each other's data.

mod api;
mod args;
mod report;
mod scenarios;

use anyhow::{Context, Result};
use args::{Args, Scenario};
use clap::Parser;
use report::{say, Row, Status};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if let Err(e) = args.validate() {
        eprintln!("error: {e:#}");
        return std::process::ExitCode::from(64);
    }
    match run(args).await {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Exit codes: 0 all good; 1 a request failed; 2 a result check failed; 3 a job was
/// handed to two sessions.
async fn run(args: Args) -> Result<u8> {
    let started = Instant::now();
    let started_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let api = api::Api::new(
        &args.url,
        Duration::from_secs(args.request_timeout),
        args.launchers.max(4) * 2,
    )?;
    let deadline = started + Duration::from_secs(args.max_duration);
    let mut ctx = scenarios::Ctx::new(args.clone(), api, deadline);

    let mut rows: Vec<Row> = Vec::new();
    let mut failure: Option<String> = None;
    say(&format!("balsam-bench: {} ", args.url));
    for (scenario, name) in [
        (Scenario::Setup, "setup"),
        (Scenario::BulkCreate, "bulk-create"),
        (Scenario::List, "list"),
        (Scenario::BulkPatch, "bulk-patch"),
        (Scenario::Acquire, "acquire"),
        (Scenario::StateCounts, "state-counts"),
        (Scenario::Ws, "ws"),
    ] {
        if scenario != Scenario::Setup && !args.wants(scenario) {
            continue;
        }
        let result = match scenario {
            Scenario::Setup => ctx.setup().await,
            Scenario::BulkCreate => ctx.bulk_create().await,
            Scenario::List => ctx.list().await,
            Scenario::BulkPatch => ctx.bulk_patch().await,
            Scenario::Acquire => ctx.acquire().await,
            Scenario::StateCounts => ctx.state_counts().await,
            Scenario::Ws => ctx.ws().await,
            Scenario::All => unreachable!(),
        };
        match result {
            Ok(mut new_rows) => {
                rows.append(&mut new_rows);
                if let Some(msg) = ctx.stop.take() {
                    failure = Some(msg);
                    break;
                }
            }
            Err(e) => {
                let msg = format!("{e:#}");
                say(&format!("[{name}] FAILED: {msg}"));
                let mut row = Row::new(name);
                row.status = Status::Failed(msg.clone());
                rows.push(row);
                failure = Some(format!("{name}: {msg}"));
                break;
            }
        }
    }

    println!();
    println!(
        "balsam-bench {} against {}",
        env!("CARGO_PKG_VERSION"),
        args.url
    );
    if !args.label.is_empty() {
        println!("label: {}", args.label);
    }
    println!(
        "sizes: jobs={} batch={} list-jobs={} fill-batch={} list-requests={} launchers={} acquire-max={} state-count-requests={} ws-subscribers={} ws-jobs={}",
        args.jobs,
        args.batch,
        args.list_jobs,
        args.fill_batch,
        args.list_requests,
        args.launchers,
        args.acquire_max,
        args.state_count_requests,
        args.ws_subscribers,
        args.ws_jobs
    );
    println!();
    print!("{}", report::table(&rows));
    if !ctx.problems.is_empty() {
        println!();
        println!("RESULT CHECKS FAILED ({}):", ctx.problems.len());
        for p in &ctx.problems {
            println!("  - {p}");
        }
    }
    let retries = ctx.retries();
    if retries > 0 {
        println!(
            "note: {retries} GET/DELETE request(s) were re-sent after the server dropped a kept-alive connection (not counted as failures)"
        );
    }
    println!("total time {:.1} s", started.elapsed().as_secs_f64());

    if let Some(path) = &args.json {
        let doc = json!({
            "tool": "balsam-bench",
            "version": env!("CARGO_PKG_VERSION"),
            "label": args.label,
            "api_root": args.url,
            "started_unix": started_unix,
            "total_s": started.elapsed().as_secs_f64(),
            "params": {
                "scenarios": args.scenarios.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>(),
                "jobs": args.jobs,
                "batch": args.batch,
                "list_jobs": args.list_jobs,
                "fill_batch": args.fill_batch,
                "list_requests": args.list_requests,
                "launchers": args.launchers,
                "acquire_max": args.acquire_max,
                "state_count_requests": args.state_count_requests,
                "ws_subscribers": args.ws_subscribers,
                "ws_jobs": args.ws_jobs,
                "ws_rate": args.ws_rate,
                "ws_patch_writers": args.ws_patch_writers,
            },
            "user": ctx.username,
            "site_id": ctx.site_id,
            "app_id": ctx.app_id,
            "scenarios": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
            "problems": ctx.problems,
            "retries": retries,
            "failure": failure,
        });
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        say(&format!("results written to {}", path.display()));
    }

    Ok(if ctx.duplicate_acquire {
        3
    } else if failure.is_some() {
        1
    } else if !ctx.problems.is_empty() {
        2
    } else {
        0
    })
}
