//! `balsam-sim`: a synthetic Balsam Site (see the library docs and `--help`).

use balsam_sim::Args;
use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        wait_for_signal().await;
        let _ = tx.send(());
        wait_for_signal().await;
        eprintln!("\nbalsam-sim: interrupted again, exiting at once (sessions left to expire)");
        std::process::exit(130);
    });
    let interrupt = async {
        let _ = rx.await;
    };
    match balsam_sim::run(args.clone(), interrupt).await {
        Ok(summary) => {
            println!("{summary}");
            if args.until_done && summary.reason == "duration elapsed" && !summary.all_done() {
                eprintln!("balsam-sim: --duration elapsed before every job was done");
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(err) => {
            eprintln!("balsam-sim: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Ctrl-C or SIGTERM.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
