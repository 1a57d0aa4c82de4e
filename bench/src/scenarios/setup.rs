//! `setup`: a fresh user, a Site and an App (always run, untimed prerequisites of the rest).
use super::{post_for_id, unique_suffix, Ctx};
use crate::api::{excerpt, form, Body};
use crate::report::{say, Row};
use anyhow::{anyhow, Context, Result};
use reqwest::Method;
use serde_json::json;
use std::time::Instant;

impl Ctx {
    pub async fn setup(&mut self) -> Result<Vec<Row>> {
        let mut row = Row::new("setup");
        let t0 = Instant::now();
        let suffix = unique_suffix();
        let username = format!("bench_{suffix}");
        let password = format!("pw-{suffix}-balsam-bench");

        let reply = self
            .anon
            .call(
                Method::POST,
                "auth/password/register",
                Body::json(&json!({"username": username, "password": password})),
                201,
            )
            .await
            .context("register")?;
        row.record(reply.elapsed);

        let reply = self
            .anon
            .call(
                Method::POST,
                "auth/password/login",
                Body::Form(form(&[("username", &username), ("password", &password)])),
                200,
            )
            .await
            .context("login")?;
        row.record(reply.elapsed);
        let token = reply.json()?["access_token"]
            .as_str()
            .ok_or_else(|| {
                anyhow!(
                    "login response has no access_token: {}",
                    excerpt(&reply.body)
                )
            })?
            .to_string();
        let api = self.anon.with_token(&token)?;

        // The body `balsam site init` sends (every field with its default).
        let site = json!({
            "name": format!("bench-{suffix}"),
            "path": format!("/tmp/balsam-bench/{suffix}"),
            "globus_endpoint_id": null,
            "backfill_windows": {},
            "queued_jobs": {},
            "optional_batch_job_params": {},
            "allowed_projects": [],
            "allowed_queues": {},
            "transfer_locations": {},
        });
        let (site_id, elapsed) = post_for_id(&api, "sites/", &site, "create Site", "Site").await?;
        row.record(elapsed);

        // The body ApplicationDefinition.sync() sends.
        let app = json!({
            "site_id": site_id,
            "name": "BenchApp",
            "serialized_class": "YmFsc2FtLWJlbmNoIGR1bW15IGNsYXNz",
            "source_code": "class BenchApp(ApplicationDefinition):\n    command_template = 'true'\n",
            "description": "balsam-bench dummy app",
            "parameters": {},
            "transfers": {},
        });
        let (app_id, elapsed) = post_for_id(&api, "apps/", &app, "create App", "App").await?;
        row.record(elapsed);

        row.wall = t0.elapsed();
        row.note = "register, login, POST /sites/, POST /apps/ (register and login include password hashing)".into();
        say(&format!(
            "[setup] user {username}, site {site_id}, app {app_id}"
        ));
        self.username = username;
        self.site_id = Some(site_id);
        self.app_id = Some(app_id);
        self.api = Some(api);
        self.token = token;
        Ok(vec![row])
    }
}
