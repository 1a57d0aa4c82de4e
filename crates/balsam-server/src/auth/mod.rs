//! Authentication: password hashing, upstream-compatible JWT access tokens, and the
//! `AuthUser` extractor that every protected handler takes.

mod extract;
pub mod password;
pub mod revocation;
pub mod throttle;
pub mod token;

pub use extract::AuthUser;
pub use token::{TokenError, TokenKeys, Verified};

use crate::config::Config;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use std::path::Path;

/// File in the data directory holding the generated signing secret.
pub const SECRET_FILE: &str = "jwt-secret";

/// The configured signing secret, or the one kept in the data directory (generated on
/// first run). There is no built-in default secret.
pub fn load_or_create_secret(config: &Config) -> anyhow::Result<SecretString> {
    let configured = config.auth.secret_key.expose_secret();
    if !configured.is_empty() {
        return Ok(config.auth.secret_key.clone());
    }
    let path = config.data_dir.join(SECRET_FILE);
    if path.exists() {
        let secret = std::fs::read_to_string(&path)?.trim().to_owned();
        anyhow::ensure!(
            secret.len() >= 32,
            "{} is too short to be a secret",
            path.display()
        );
        return Ok(secret.into());
    }
    std::fs::create_dir_all(&config.data_dir)?;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, &secret)?;
    tracing::info!(path = %path.display(), "generated a new token-signing secret");
    Ok(secret.into())
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}
