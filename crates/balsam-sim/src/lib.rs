//! balsam-sim: a synthetic Balsam Site. It registers Sites and Apps, submits jobs and then
//! plays every Site-side role of the real agent (scheduler, queue maintainer, launchers in
//! BatchJobs, processing and transfer services), all over the REST API with the call
//! sequences of `client-usage.md` (b), so it drives any Balsam API server.
//!
//! Time is scaled: every simulated duration (run times, queue waits, service periods) is
//! divided by `--speed`, with service periods floored at 50 ms.

mod api;
mod args;
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
mod util;
mod world;

pub use api::EndpointStats;
pub use args::Args;
pub use summary::Summary;

use api::Api;
use console::Console;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use world::{Clock, World};

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
