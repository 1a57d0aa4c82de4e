//! Login, Site registration and App sync, with the call sequences of `balsam register`,
//! `balsam login`, `balsam site init`, the agent's startup sync and `ApplicationDefinition.sync()`.

use crate::api::{query, Api, ApiError};
use crate::args::Args;
use crate::world::SiteInfo;
use anyhow::{bail, Context};
use reqwest::Method;
use serde_json::{json, Value};

pub async fn login(api: &Api, args: &Args) -> anyhow::Result<String> {
    if args.register {
        let body = json!({"username": args.username, "password": args.password});
        match api
            .call_quiet(
                "POST /auth/password/register",
                Method::POST,
                "auth/password/register",
                Some(&body),
            )
            .await
        {
            Ok(_) => {}
            // Already registered (or registration closed): logging in tells which.
            Err(ApiError::Status { status: 400, .. })
            | Err(ApiError::Status { status: 403, .. }) => {}
            Err(e) => return Err(e).context("registering the user"),
        }
    }
    let reply = api
        .post_form(
            "POST /auth/password/login",
            "auth/password/login",
            &[("username", &args.username), ("password", &args.password)],
            false,
        )
        .await
        .with_context(|| {
            format!(
                "logging in as {:?} at {} (wrong password? add --register to create the user)",
                args.username,
                api.root()
            )
        })?;
    match reply["access_token"].as_str() {
        Some(token) => Ok(token.to_owned()),
        None => bail!("the login response has no access_token: {reply}"),
    }
}

pub async fn sites_and_apps(api: &Api, args: &Args) -> anyhow::Result<Vec<SiteInfo>> {
    let mut sites = Vec::new();
    for index in 0..args.sites {
        let name = format!("{}-{}", args.site_prefix, index + 1);
        let id = site(api, args, &name)
            .await
            .with_context(|| format!("registering Site {name}"))?;
        let shell_app = sync_app(api, id, shell_app_body(id))
            .await
            .with_context(|| format!("registering the shell App of Site {name}"))?;
        let python_app = sync_app(api, id, python_app_body(id))
            .await
            .with_context(|| format!("registering the Python App of Site {name}"))?;
        sites.push(SiteInfo {
            index,
            id,
            name,
            shell_app,
            python_app,
        });
    }
    Ok(sites)
}

/// `balsam site init` (or reuse of an existing Site of that name), then the agent's
/// startup config sync: `GET /sites/?id=S` and `PUT /sites/S` with the config fields.
async fn site(api: &Api, args: &Args, name: &str) -> anyhow::Result<i64> {
    let path = format!("{}/{name}", args.site_path.trim_end_matches('/'));
    let body = json!({
        "name": name, "path": path, "globus_endpoint_id": null,
        "backfill_windows": {}, "queued_jobs": {}, "optional_batch_job_params": {},
        "allowed_projects": [], "allowed_queues": {}, "transfer_locations": {},
    });
    let id = match api
        .call_quiet("POST /sites/", Method::POST, "sites/", Some(&body))
        .await
    {
        Ok(site) => id_of(&site)?,
        Err(ApiError::Status { status: 400, .. }) => {
            let q = query(&[("name", name)]);
            let page = api.get("GET /sites/", &format!("sites/?{q}")).await?;
            match page["results"].get(0) {
                Some(site) => id_of(site)?,
                None => bail!("the Site name is taken but no Site {name:?} is listed"),
            }
        }
        Err(e) => return Err(e.into()),
    };
    api.get(
        "GET /sites/",
        &format!("sites/?id={id}&limit=100000&offset=0"),
    )
    .await?;
    let config = json!({
        "globus_endpoint_id": null,
        "optional_batch_job_params": {"simulated": "True"},
        "allowed_projects": ["sim"],
        "allowed_queues": {
            "default": {"max_nodes": 64, "max_walltime": 1440, "max_queued_jobs": 100},
            "debug": {"max_nodes": 8, "max_walltime": 60, "max_queued_jobs": 10},
        },
        "transfer_locations": {
            "archive": "globus://0c4e5b26-7d0e-4a0a-9d3f-5b4f0d7d1e11",
            "laptop": "rsync://user@laptop.example.org",
        },
    });
    api.call(
        "PUT /sites/{id}",
        Method::PUT,
        &format!("sites/{id}"),
        Some(&config),
    )
    .await?;
    Ok(id)
}

/// `ApplicationDefinition.sync()`: look the App up by name, then POST or PUT it.
async fn sync_app(api: &Api, site_id: i64, body: Value) -> anyhow::Result<i64> {
    let name = body["name"].as_str().unwrap_or_default().to_owned();
    let q = query(&[("site_id", site_id.to_string()), ("name", name)]);
    let page = api.get("GET /apps/", &format!("apps/?{q}")).await?;
    match page["results"].get(0) {
        Some(app) => {
            let id = id_of(app)?;
            api.call(
                "PUT /apps/{id}",
                Method::PUT,
                &format!("apps/{id}"),
                Some(&body),
            )
            .await?;
            Ok(id)
        }
        None => {
            let app = api
                .call("POST /apps/", Method::POST, "apps/", Some(&body))
                .await?;
            id_of(&app)
        }
    }
}

fn id_of(v: &Value) -> anyhow::Result<i64> {
    v["id"]
        .as_i64()
        .with_context(|| format!("no id in {}", crate::api::excerpt(&v.to_string())))
}

fn shell_app_body(site_id: i64) -> Value {
    json!({
        "site_id": site_id,
        "name": "SimShell",
        "serialized_class": "gASVSAAAAAAAAACMCnNpbS5hcHBzlIwIU2ltU2hlbGyUk5Qu",
        "source_code": "class SimShell(ApplicationDefinition):\n    command_template = 'simulate --input input.dat --steps {{ steps }} > output.dat'\n",
        "description": "Synthetic shell app: reads input.dat, writes output.dat (balsam-sim)",
        "parameters": {
            "steps": {"required": true, "default": null, "help": "number of steps"},
            "verbose": {"required": false, "default": "0", "help": ""},
        },
        "transfers": {
            "input": {"required": false, "direction": "in", "local_path": "input.dat",
                      "description": "input deck", "recursive": false},
            "output": {"required": false, "direction": "out", "local_path": "output.dat",
                       "description": "results", "recursive": false},
        },
    })
}

fn python_app_body(site_id: i64) -> Value {
    json!({
        "site_id": site_id,
        "name": "SimPython",
        "serialized_class": "gASVSQAAAAAAAACMCnNpbS5hcHBzlIwJU2ltUHl0aG9ulJOULg==",
        "source_code": "class SimPython(PyAppDefinition):\n    def run(self, x, y):\n        return x * y\n",
        "description": "Synthetic Python app returning a value (balsam-sim)",
        "parameters": {},
        "transfers": {},
    })
}
