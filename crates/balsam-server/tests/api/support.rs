//! `TestApp`: a running server with its own data directory and database.
//!
//! Repetition note: each test spells out its requests and assertions step by step, so
//! tests here and in the other API test files look alike on purpose.

use balsam_server::config::{Config, Overrides};
use balsam_server::Application;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::path::PathBuf;

pub struct TestApp {
    pub base: String,
    /// The database this app uses (PostgreSQL URL, or the SQLite file's URL).
    pub database_url: String,
    pub client: reqwest::Client,
    pub data_dir: tempfile::TempDir,
    pg_database: Option<(String, String)>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// A registered, logged-in user.
pub struct TestUser {
    pub id: i64,
    pub username: String,
    pub token: String,
}

/// A response with its status and decoded body (`Value::Null` when empty or not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns with a tweak applied to the configuration.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let data_dir = tempfile::tempdir().unwrap();
        let (database_url, pg_database) = match std::env::var("BALSAM_TEST_POSTGRES_URL") {
            Ok(base) => {
                let base = base.trim_end_matches('/').to_owned();
                let name = format!("balsam_api_test_{}", uuid::Uuid::new_v4().simple());
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
            redis_url: std::env::var("BALSAM_TEST_REDIS_URL").ok(),
        };
        let mut config = Config::load(Some(&PathBuf::from("/dev/null")), &overrides).unwrap();
        config.telemetry.log_filter = if std::env::var("TEST_LOG").is_ok() {
            "debug".into()
        } else {
            "off".into()
        };
        // Test apps share one Redis but each has its own database (and user ids).
        config.channels.redis_prefix =
            format!("balsam-test-{}:user:", uuid::Uuid::new_v4().simple());
        tweak(&mut config);
        balsam_server::telemetry::init(&config.telemetry);
        let database_url = config.database_url();
        let application = Application::build(config).await.unwrap();
        let addr = application.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            application
                .run_until(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        TestApp {
            base: format!("http://{addr}/api/v1"),
            database_url,
            client: reqwest::Client::new(),
            data_dir,
            pg_database,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    /// Stops the server and drops its PostgreSQL database.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
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

    /// The server's `host:port`, for raw connections.
    pub fn addr(&self) -> String {
        let authority = self.base.trim_start_matches("http://");
        authority.split('/').next().unwrap().to_owned()
    }

    /// The websocket URL of `/subscribe-user`.
    pub fn ws_url(&self) -> String {
        format!(
            "{}/subscribe-user",
            self.base.replacen("http://", "ws://", 1)
        )
    }

    /// Registers and logs in a fresh user.
    pub async fn new_user(&self) -> TestUser {
        let username = format!("u{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let reg = self
            .call(
                Method::POST,
                "/auth/password/register",
                None,
                Some(serde_json::json!({
                    "username": username, "password": "pw-secret"
                })),
            )
            .await;
        assert_eq!(reg.status, StatusCode::CREATED, "{}", reg.text);
        let token = self.login(&username, "pw-secret").await;
        TestUser {
            id: reg.body["id"].as_i64().unwrap(),
            username,
            token,
        }
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let res = self
            .client
            .post(format!("{}/auth/password/login", self.base))
            .form(&[("username", username), ("password", password)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Any request: `path` is relative to the API root, `token` is sent as Bearer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        Reply::from(req.send().await.unwrap()).await
    }

    /// A request with a raw body.
    pub async fn raw(&self, method: Method, path: &str, token: &str, body: &'static str) -> Reply {
        let req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body);
        Reply::from(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, user: &TestUser) -> Reply {
        self.call(Method::GET, path, Some(&user.token), None).await
    }

    pub async fn post(&self, path: &str, user: &TestUser, body: Value) -> Reply {
        self.call(Method::POST, path, Some(&user.token), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, user: &TestUser, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(&user.token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, user: &TestUser) -> Reply {
        self.call(Method::DELETE, path, Some(&user.token), None)
            .await
    }

    /// Site `s` with a transfer location (`laptop`) and App `A` there with the given
    /// transfer slots; returns both as JSON.
    pub async fn site_and_app(&self, user: &TestUser, transfers: Value) -> (Value, Value) {
        let site = self
            .post(
                "/sites/",
                user,
                serde_json::json!({"name": "s", "path": "/s", "transfer_locations": {"laptop": "globus://x"}}),
            )
            .await
            .body;
        let app = self
            .post(
                "/apps/",
                user,
                serde_json::json!({"site_id": site["id"], "name": "A", "serialized_class": "x",
                "source_code": "y", "transfers": transfers}),
            )
            .await
            .body;
        (site, app)
    }

    /// Creates a Site and returns its JSON.
    pub async fn site(&self, user: &TestUser, name: &str) -> Value {
        let r = self
            .post(
                "/sites/",
                user,
                serde_json::json!({"name": name, "path": format!("/sites/{name}")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body
    }
}

impl Reply {
    async fn from(res: reqwest::Response) -> Reply {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }
}
