//! `replay-storm`: many websockets resume a long backlog at once, while the server's
//! memory is sampled (bench/replay-storm.sh prepares the server and the backlog).
//!
//! Each of `--sockets` sockets says `{"op":"hello","token":…,"last_seq":N,"epoch":…}` at
//! the same moment and reads until it has every entry up to the welcome's head, checking
//! that the sequence numbers arrive in order without gaps. Meanwhile the server's
//! resident set (`VmRSS` of `/proc/<--server-pid>/status`) is sampled every 20 ms. Prints
//! one `key=value` line per fact: sockets, entries and MB per socket, seconds, and the
//! server's RSS before and at its peak.

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser)]
struct Args {
    /// API root, e.g. http://127.0.0.1:8000/api/v1
    #[arg(long)]
    url: String,
    /// Access token of the user whose log is replayed.
    #[arg(long)]
    token: String,
    /// Sockets resuming at once.
    #[arg(long, default_value_t = 100)]
    sockets: usize,
    /// The `last_seq` every socket resumes from.
    #[arg(long)]
    last_seq: i64,
    /// The server's process id, whose RSS is sampled.
    #[arg(long)]
    server_pid: u32,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout_secs: u64,
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn http_epoch_and_head(url: &str, token: &str) -> Result<(String, i64)> {
    let ws = ws_url(url)?;
    let (mut socket, _) = tokio_tungstenite::connect_async(ws).await?;
    let hello = json!({"op": "hello", "token": token, "last_seq": null});
    socket.send(Message::Text(hello.to_string().into())).await?;
    let welcome = next_text(&mut socket)
        .await?
        .ok_or_else(|| anyhow!("no welcome"))?;
    let welcome: Value = serde_json::from_str(&welcome)?;
    let epoch = welcome["epoch"].as_str().unwrap_or_default().to_owned();
    let head = welcome["seq"].as_i64().context("welcome without seq")?;
    Ok((epoch, head))
}

fn ws_url(api: &str) -> Result<String> {
    let root = api.trim_end_matches('/');
    match root.strip_prefix("http://") {
        Some(rest) => Ok(format!("ws://{rest}/subscribe-user")),
        None => bail!("--url must be http://"),
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_text(socket: &mut Socket) -> Result<Option<String>> {
    while let Some(msg) = socket.next().await {
        match msg? {
            Message::Text(t) => return Ok(Some(t.to_string())),
            Message::Close(frame) => bail!("closed: {frame:?}"),
            _ => {}
        }
    }
    Ok(None)
}

/// `seq` of an event frame (`{"seq":n,…`) without parsing the rest; `None` for control
/// frames (`{"op":…`).
fn leading_seq(text: &str) -> Option<i64> {
    let rest = text.strip_prefix("{\"seq\":")?;
    let end = rest.find(',')?;
    rest[..end].parse().ok()
}

/// One socket's resume: entries and bytes received up to `head`.
async fn resume(args: &Args, epoch: &str, head: i64) -> Result<(u64, u64)> {
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url(&args.url)?).await?;
    let hello =
        json!({"op": "hello", "token": args.token, "last_seq": args.last_seq, "epoch": epoch});
    socket.send(Message::Text(hello.to_string().into())).await?;
    let (mut expected, mut entries, mut bytes) = (args.last_seq + 1, 0u64, 0u64);
    while expected <= head {
        let text = next_text(&mut socket)
            .await?
            .ok_or_else(|| anyhow!("socket ended at seq {expected}"))?;
        bytes += text.len() as u64;
        match leading_seq(&text) {
            Some(seq) if seq == expected => {
                entries += 1;
                expected += 1;
            }
            Some(seq) => bail!("expected seq {expected}, got {seq}"),
            None if text.contains("\"resync\"") => bail!("resync instead of a replay"),
            None => {}
        }
    }
    Ok((entries, bytes))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Arc::new(Args::parse());
    let before = rss_kib(args.server_pid).context("cannot read the server's RSS")?;
    let (epoch, head) = http_epoch_and_head(&args.url, &args.token).await?;
    if head <= args.last_seq {
        bail!("nothing to replay: head {head}, last_seq {}", args.last_seq);
    }
    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done, pid) = (peak.clone(), done.clone(), args.server_pid);
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                if let Some(kib) = rss_kib(pid) {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let started = Instant::now();
    let runs = (0..args.sockets).map(|_| {
        let (args, epoch) = (args.clone(), epoch.clone());
        tokio::spawn(async move { resume(&args, &epoch, head).await })
    });
    let results = tokio::time::timeout(
        Duration::from_secs(args.timeout_secs),
        futures::future::join_all(runs),
    )
    .await
    .context("timed out")?;
    let secs = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    sampler.await?;
    let mut per_socket = None;
    for r in results {
        let (entries, bytes) = r??;
        if per_socket.is_some_and(|p| p != (entries, bytes)) {
            bail!("sockets received different backlogs");
        }
        per_socket = Some((entries, bytes));
    }
    let (entries, bytes) = per_socket.unwrap_or_default();
    let after = rss_kib(args.server_pid).unwrap_or(0);
    println!("sockets={}", args.sockets);
    println!("entries_per_socket={entries}");
    println!("mb_per_socket={:.1}", bytes as f64 / 1e6);
    println!("mb_total={:.1}", (bytes * args.sockets as u64) as f64 / 1e6);
    println!("seconds={secs:.1}");
    println!("server_rss_before_mib={:.0}", before as f64 / 1024.0);
    println!(
        "server_rss_peak_mib={:.0}",
        peak.load(Ordering::Relaxed) as f64 / 1024.0
    );
    println!("server_rss_after_mib={:.0}", after as f64 / 1024.0);
    Ok(())
}
