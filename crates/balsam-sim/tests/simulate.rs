//! The simulator against a real balsam-server (started in-process on 127.0.0.1:0 with a
//! temporary data dir; on PostgreSQL when BALSAM_TEST_POSTGRES_URL is set): every job
//! reaches a terminal state, every state change has its LogEvent, and the simulator
//! cleans up its Sessions, also when interrupted.
//!
//! Repetition note: this file spells out a step another crate's test or client spells out
//! too (starting a server, waiting for a port, a call with its error handling); crates do
//! not share test code.

#![expect(clippy::unwrap_used, reason = "tests fail loudly on purpose")]

use balsam_server::config::{Config, Overrides};
use balsam_server::Application;
use clap::Parser;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

struct Server {
    base: String,
    _data_dir: tempfile::TempDir,
    pg_database: Option<(String, String)>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    async fn spawn() -> Server {
        let data_dir = tempfile::tempdir().unwrap();
        let (database_url, pg_database) = match std::env::var("BALSAM_TEST_POSTGRES_URL") {
            Ok(base) => {
                let base = base.trim_end_matches('/').to_owned();
                let name = format!("balsam_sim_test_{}", uuid::Uuid::new_v4().simple());
                (
                    Some(format!("{base}/{name}")),
                    Some((format!("{base}/postgres"), name)),
                )
            }
            Err(_) => (None, None),
        };
        let overrides = Overrides {
            data_dir: Some(data_dir.path().to_path_buf()),
            bind: Some("127.0.0.1:0".into()),
            database_url,
            web_dir: None,
            redis_url: None,
        };
        let mut config = Config::load(Some(&PathBuf::from("/dev/null")), &overrides).unwrap();
        config.telemetry.log_filter = "off".into();
        let application = Application::build(config).await.unwrap();
        let addr = application.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            application
                .run_until(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        Server {
            base: format!("http://{addr}/api/v1"),
            _data_dir: data_dir,
            pg_database,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap();
        }
        if let Some((admin, name)) = self.pg_database.take() {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }

    async fn token(&self, username: &str, password: &str) -> String {
        let res = reqwest::Client::new()
            .post(format!("{}/auth/password/login", self.base))
            .form(&[("username", username), ("password", password)])
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn get(&self, token: &str, path: &str) -> Value {
        let res = reqwest::Client::new()
            .get(format!("{}/{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.json().await.unwrap()
    }
}

/// Every job has a creation event, each event starts where the previous one ended (in
/// insertion order), and the last one ends in the job's current state. Returns the
/// number of events per (from, to) transition.
fn check_event_chains(jobs: &[Value], events: &[Value]) -> BTreeMap<(String, String), u64> {
    let mut by_job: HashMap<i64, Vec<&Value>> = HashMap::new();
    for e in events {
        by_job
            .entry(e["job_id"].as_i64().unwrap())
            .or_default()
            .push(e);
    }
    let mut transitions = BTreeMap::new();
    for job in jobs {
        let id = job["id"].as_i64().unwrap();
        let mut chain = by_job.remove(&id).unwrap_or_default();
        assert!(!chain.is_empty(), "job {id} has no LogEvent");
        chain.sort_by_key(|e| e["id"].as_i64().unwrap());
        let mut state = "CREATED".to_owned();
        for e in &chain {
            let from = e["from_state"].as_str().unwrap();
            let to = e["to_state"].as_str().unwrap();
            assert_eq!(
                from, state,
                "job {id}: event {} starts in {from}, but the job was {state}; chain: {chain:#?}",
                e["id"]
            );
            *transitions
                .entry((from.to_owned(), to.to_owned()))
                .or_insert(0) += 1;
            state = to.to_owned();
        }
        assert_eq!(
            job["state"].as_str().unwrap(),
            state,
            "job {id}: its last event ends in {state}, the job is in {}",
            job["state"]
        );
    }
    assert!(by_job.is_empty(), "events of unknown jobs: {by_job:?}");
    transitions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_job_reaches_a_terminal_state_with_a_consistent_event_chain() {
    let server = Server::spawn().await;
    let args = balsam_sim::Args::try_parse_from([
        "balsam-sim",
        "--url",
        &server.base,
        "--register",
        "--username",
        "simtest",
        "--password",
        "simtest-pw",
        "--sites",
        "2",
        "--jobs-per-site",
        "15",
        "--rate",
        "30",
        "--speed",
        "100",
        "--failure-ratio",
        "0.3",
        "--retry-ratio",
        "0.5",
        "--chain-ratio",
        "0.3",
        "--transfer-ratio",
        "0.4",
        "--seed",
        "11",
        "--until-done",
        "--duration",
        "120",
        "--quiet",
    ])
    .unwrap();
    let summary = balsam_sim::run(args, std::future::pending()).await.unwrap();
    println!("{summary}");
    assert_eq!(summary.reason, "all jobs done", "{summary}");
    assert_eq!(summary.submitted, 30);
    assert!(summary.all_done(), "{summary}");
    assert_eq!(summary.errors, 0, "{summary}");

    let token = server.token("simtest", "simtest-pw").await;
    let tag = format!("sim_run:{}", summary.run_tag);
    let jobs = server
        .get(&token, &format!("jobs/?tags={tag}&limit=100000"))
        .await;
    let jobs = jobs["results"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), 30);
    for job in &jobs {
        let state = job["state"].as_str().unwrap();
        assert!(
            state == "JOB_FINISHED" || state == "FAILED",
            "job {} ended in {state}",
            job["id"]
        );
    }
    let events = server
        .get(&token, &format!("events/?tags={tag}&limit=100000"))
        .await;
    let transitions = check_event_chains(&jobs, events["results"].as_array().unwrap());
    let count = |from: &str, to: &str| {
        transitions
            .get(&(from.to_owned(), to.to_owned()))
            .copied()
            .unwrap_or(0)
    };
    // The seeded run exercises chains, transfers, retries and failures.
    assert!(count("CREATED", "AWAITING_PARENTS") > 0, "{transitions:?}");
    assert!(count("READY", "STAGED_IN") > 0, "{transitions:?}");
    assert!(
        count("POSTPROCESSED", "JOB_FINISHED") > 0,
        "{transitions:?}"
    );
    assert!(count("RUN_ERROR", "RESTART_READY") > 0, "{transitions:?}");
    assert!(count("RUN_ERROR", "FAILED") > 0, "{transitions:?}");

    // Every stage-in is done, and every stage-out of a finished job (a failed job's
    // stage-out never starts); every Session deleted, no BatchJob left running.
    let state_of: HashMap<i64, &str> = jobs
        .iter()
        .map(|j| (j["id"].as_i64().unwrap(), j["state"].as_str().unwrap()))
        .collect();
    let transfers = server
        .get(&token, &format!("transfers/?tags={tag}&limit=100000"))
        .await;
    let transfers = transfers["results"].as_array().unwrap();
    assert!(!transfers.is_empty());
    for t in transfers {
        let job_state = state_of[&t["job_id"].as_i64().unwrap()];
        let expected = if t["direction"] == "out" && job_state == "FAILED" {
            "awaiting_job"
        } else {
            "done"
        };
        assert_eq!(t["state"], expected, "{t} (job {job_state})");
    }
    let sessions = server.get(&token, "sessions/").await;
    assert_eq!(sessions["count"], 0, "{sessions}");
    let active = server
        .get(&token, "batch-jobs/?state=queued&state=running&limit=0")
        .await;
    assert_eq!(active["count"], 0, "{active}");
    // The Sites' heartbeat carried the scheduler's view.
    let sites = server.get(&token, "sites/").await;
    for site in sites["results"].as_array().unwrap() {
        assert!(site["backfill_windows"].is_object(), "{site}");
        assert!(site["transfer_locations"]["archive"].is_string(), "{site}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_stops_cleanly_on_sigint() {
    let server = Server::spawn().await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_balsam-sim"))
        .args([
            "--url",
            &server.base,
            "--register",
            "--username",
            "sigint",
            "--password",
            "sigint-pw",
            "--sites",
            "2",
            "--jobs-per-site",
            "0",
            "--rate",
            "20",
            "--speed",
            "50",
            "--quiet",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let token = {
        // Wait until the simulator has registered and jobs are running.
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut token = None;
        loop {
            assert!(Instant::now() < deadline, "no job ever ran");
            tokio::time::sleep(Duration::from_millis(500)).await;
            if token.is_none() {
                let res = reqwest::Client::new()
                    .post(format!("{}/auth/password/login", server.base))
                    .form(&[("username", "sigint"), ("password", "sigint-pw")])
                    .send()
                    .await
                    .unwrap();
                if res.status().is_success() {
                    let body: Value = res.json().await.unwrap();
                    token = Some(body["access_token"].as_str().unwrap().to_owned());
                }
            }
            if let Some(token) = &token {
                let running = server.get(token, "jobs/?state=RUNNING&limit=0").await;
                if running["count"].as_u64().unwrap() > 0 {
                    break token.clone();
                }
            }
        }
    };
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "the simulator did not stop");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(exit.success(), "exit {exit:?}\n{stdout}\n{stderr}");
    assert!(stdout.contains("(interrupted)"), "{stdout}\n{stderr}");

    // Sessions deleted: nothing left RUNNING or locked, and the events still chain up.
    let sessions = server.get(&token, "sessions/").await;
    assert_eq!(sessions["count"], 0, "{sessions}");
    let running = server.get(&token, "jobs/?state=RUNNING&limit=0").await;
    assert_eq!(running["count"], 0, "{running}");
    let jobs = server.get(&token, "jobs/?limit=100000").await;
    let jobs = jobs["results"].as_array().unwrap().clone();
    assert!(!jobs.is_empty());
    for job in &jobs {
        assert!(job["session_id"].is_null(), "{job}");
    }
    let events = server.get(&token, "events/?limit=100000").await;
    check_event_chains(&jobs, events["results"].as_array().unwrap());
    server.stop().await;
}
