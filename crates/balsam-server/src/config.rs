//! Configuration: one typed tree, built once in `main` from layered sources and passed
//! explicitly. The defaults live in `balsam.defaults.toml`, which is also the documentation.
//!
//! Repetition note: the sections holding URLs implement `Debug` by hand to redact them;
//! those impls look alike on purpose.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// The commented defaults file, the first configuration layer.
pub const DEFAULTS: &str = include_str!("../balsam.defaults.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub data_dir: PathBuf,
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub web: WebConfig,
    pub sessions: SessionsConfig,
    pub channels: ChannelsConfig,
    pub events: EventsConfig,
    pub ws: WsConfig,
    pub metrics: MetricsConfig,
    pub telemetry: TelemetryConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    pub enabled: bool,
    /// Required as `Authorization: Bearer <token>` by `/metrics` (empty: refused to all).
    pub bearer_token: SecretString,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelsConfig {
    pub redis_url: String,
    pub redis_prefix: String,
}

impl fmt::Debug for ChannelsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelsConfig")
            .field("redis_url", &balsam_store::redact_url(&self.redis_url))
            .field("redis_prefix", &self.redis_prefix)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsConfig {
    pub retention_hours: u64,
    pub max_per_user: i64,
    pub prune_interval_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WsConfig {
    pub auth_timeout_secs: u64,
    pub max_per_address: usize,
    pub max_concurrent_replays: usize,
    pub replay_page_kib: usize,
    pub ping_interval_secs: u64,
    pub send_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsConfig {
    pub expire_after_secs: u64,
    pub sweep_interval_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    pub bind: String,
    pub max_body_mib: usize,
    pub max_concurrent_large_bodies: usize,
    pub large_body_mib: usize,
    pub max_anonymous_body_kib: usize,
    pub header_read_timeout_secs: u64,
    pub request_timeout_secs: u64,
    pub max_connections_per_address: usize,
    /// Peers whose `X-Forwarded-For` names the client (the reverse proxy).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Origins (`https://host[:port]`) whose pages may open the websocket, besides the
    /// server's own.
    pub public_origins: Vec<String>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
    pub max_connections: u32,
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &balsam_store::redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub secret_key: SecretString,
    pub token_ttl_hours: u32,
    pub allow_registration: bool,
    pub registrations_per_address_per_hour: u32,
    pub min_password_length: usize,
    pub max_password_length: usize,
    pub max_concurrent_hashes: usize,
    pub hash_queue_secs: u64,
    pub revocation_check_ms: u64,
    pub login_account_free_failures: u32,
    pub login_address_free_failures: u32,
    pub login_backoff_max_secs: u64,
    pub login_forget_after_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    pub dist_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    pub log_filter: String,
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Values given on the command line: the last layer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis_url: Option<String>,
}

impl Config {
    /// Builds the configuration: defaults ← TOML file ← `BALSAM_*` environment ← flags.
    /// `file` is `--config`; without it `balsam.toml` is read when present.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, Box<figment::Error>> {
        Self::load_from(file, overrides, Env::prefixed("BALSAM_"))
    }

    fn load_from(
        file: Option<&Path>,
        overrides: &Overrides,
        env: Env,
    ) -> Result<Config, Box<figment::Error>> {
        let mut figment = Figment::from(Toml::string(DEFAULTS));
        figment = match file {
            Some(path) => figment.merge(Toml::file_exact(path)),
            None => figment.merge(Toml::file("balsam.toml")),
        };
        // Only nested keys (and DATA_DIR): the Balsam client's own BALSAM_* variables,
        // such as BALSAM_SITE_PATH, must not make the server refuse to start.
        let env = env
            .filter(|key| key.as_str().contains("__") || key.as_str() == "data_dir")
            .split("__");
        figment = figment.merge(env);
        let mut flags = serde_json::Map::new();
        if let Some(dir) = &overrides.data_dir {
            flags.insert("data_dir".into(), dir.display().to_string().into());
        }
        if let Some(bind) = &overrides.bind {
            flags.insert("http".into(), serde_json::json!({ "bind": bind }));
        }
        if let Some(url) = &overrides.database_url {
            flags.insert("database".into(), serde_json::json!({ "url": url }));
        }
        if let Some(dir) = &overrides.web_dir {
            flags.insert("web".into(), serde_json::json!({ "dist_dir": dir }));
        }
        if let Some(url) = &overrides.redis_url {
            flags.insert("channels".into(), serde_json::json!({ "redis_url": url }));
        }
        figment
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(Box::new)
    }

    /// The database URL, defaulting to a SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        if self.database.url.trim().is_empty() {
            format!("sqlite://{}", self.data_dir.join("balsam.db").display())
        } else {
            self.database.url.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn env(vars: &[(&str, &str)]) -> Env {
        // A prefix of its own per call, so tests running in parallel never see each other.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let prefix = format!("BALSAMTEST{}X{n}_", std::process::id());
        for (k, v) in vars {
            std::env::set_var(format!("{prefix}{k}"), v);
        }
        Env::prefixed(&prefix)
    }

    #[test]
    fn defaults_parse_and_default_to_sqlite_in_the_data_dir() {
        let config = Config::load_from(None, &Overrides::default(), env(&[])).unwrap();
        assert_eq!(config.http.bind, "127.0.0.1:8000");
        assert!(config.auth.allow_registration);
        assert_eq!(config.auth.secret_key.expose_secret(), "");
        assert_eq!(config.database_url(), "sqlite://balsam-data/balsam.db");
        assert_eq!(config.http.trusted_proxies.len(), 2);
        assert_eq!(config.metrics.bearer_token.expose_secret(), "");
    }

    #[test]
    fn list_settings_come_from_the_environment_as_toml_arrays() {
        let env = env(&[
            ("HTTP__PUBLIC_ORIGINS", "[\"https://balsam.example\"]"),
            ("HTTP__TRUSTED_PROXIES", "[\"127.0.0.1\", \"::1\"]"),
        ]);
        let config = Config::load_from(None, &Overrides::default(), env).unwrap();
        assert_eq!(config.http.public_origins, ["https://balsam.example"]);
        assert_eq!(config.http.trusted_proxies.len(), 2);
    }

    #[test]
    fn file_then_env_then_flags_override_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("balsam.toml");
        std::fs::write(
            &file,
            "[http]\nbind = \"0.0.0.0:1\"\n[auth]\ntoken_ttl_hours = 1\n",
        )
        .unwrap();
        let env = env(&[("AUTH__TOKEN_TTL_HOURS", "2"), ("SITE_PATH", "/ignored")]);
        let flags = Overrides {
            bind: Some("127.0.0.1:9".into()),
            ..Default::default()
        };
        let config = Config::load_from(Some(&file), &flags, env).unwrap();
        assert_eq!(config.http.bind, "127.0.0.1:9");
        assert_eq!(config.auth.token_ttl_hours, 2);
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "[http]\nbnid = \"x\"\n").unwrap();
        let err = Config::load_from(Some(&file), &Overrides::default(), env(&[])).unwrap_err();
        assert!(err.to_string().contains("bnid"), "{err}");
    }

    #[test]
    fn debug_output_redacts_database_passwords() {
        let flags = Overrides {
            database_url: Some("postgres://u:hunter2@db/balsam".into()),
            ..Default::default()
        };
        let config = Config::load_from(None, &flags, env(&[])).unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
