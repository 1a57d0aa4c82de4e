//! Password hashing with Argon2id (PHC strings), the password policy, and the bounded
//! hashing pool: hashing is CPU- and memory-heavy (19 MiB each), so at most
//! `auth.max_concurrent_hashes` run at once, on the blocking pool, and a caller that waits
//! longer than `auth.hash_queue_secs` for a slot is told to retry (503).

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Hashes a password into a PHC string.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

/// Checks a password against a stored PHC string; a malformed hash never verifies.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a random password, checked when the user is unknown so that the answer takes
/// as long as for a known user (no username oracle).
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let random = uuid::Uuid::new_v4().to_string();
    hash(&random).unwrap_or_default()
});

/// [`hash`] on the blocking pool.
pub async fn hash_async(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash(&password)).await?
}

/// The hashing pool was busy for longer than the configured wait.
#[derive(Debug, thiserror::Error)]
#[error("password hashing is busy")]
pub struct Busy;

/// The bounded hashing pool.
pub struct Hasher {
    slots: Semaphore,
    wait: Duration,
}

impl Hasher {
    pub fn new(max_concurrent: usize, wait: Duration) -> Self {
        // Computed now rather than on the first unknown-user login, whose answer would
        // then take twice as long.
        LazyLock::force(&DUMMY_HASH);
        Hasher {
            slots: Semaphore::new(max_concurrent.max(1)),
            wait,
        }
    }

    async fn slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, Busy> {
        match tokio::time::timeout(self.wait, self.slots.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Busy),
        }
    }

    /// Hashes a new password.
    #[tracing::instrument(name = "password.hash", skip_all)]
    pub async fn hash(&self, password: String) -> Result<anyhow::Result<String>, Busy> {
        let _slot = self.slot().await?;
        Ok(hash_async(password).await)
    }

    /// Checks `password` against `stored`, or against a dummy hash when there is none
    /// (unknown user, or a user without a password), which then never verifies.
    #[tracing::instrument(name = "password.verify", skip_all)]
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, Busy> {
        let _slot = self.slot().await?;
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let ok = tokio::task::spawn_blocking(move || verify(&password, &stored))
            .await
            .unwrap_or(false);
        Ok(ok && known)
    }
}

/// The most common passwords (from public breach corpora), refused whatever the length
/// policy. Compared case-insensitively.
const COMMON: &[&str] = &[
    "123456",
    "123456789",
    "12345678",
    "password",
    "qwerty",
    "123123",
    "1234567890",
    "1234567",
    "12345",
    "1234",
    "111111",
    "000000",
    "qwerty123",
    "1q2w3e4r",
    "abc123",
    "password1",
    "password123",
    "iloveyou",
    "admin",
    "admin123",
    "welcome",
    "letmein",
    "monkey",
    "dragon",
    "football",
    "baseball",
    "sunshine",
    "princess",
    "qwertyuiop",
    "654321",
    "666666",
    "121212",
    "zaq12wsx",
    "passw0rd",
    "p@ssw0rd",
    "changeme",
    "secret",
    "trustno1",
    "master",
    "shadow",
    "superman",
    "asdfgh",
    "asdfghjkl",
    "1qaz2wsx",
    "balsam",
    "balsam123",
    "test",
    "test123",
    "guest",
    "root",
    "toor",
    "default",
];

/// Why a new password is refused, if it is.
pub fn policy_violation(password: &str, min: usize, max: usize) -> Option<String> {
    let len = password.chars().count();
    if password.trim().is_empty() {
        return Some("password must not be empty".into());
    }
    if len < min {
        return Some(format!("password must have at least {min} characters"));
    }
    if len > max {
        return Some(format!("password must have at most {max} characters"));
    }
    let lower = password.to_lowercase();
    if COMMON.contains(&lower.as_str()) {
        return Some("password is too common; choose another".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_own_password() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse", &h));
        assert!(!verify("wrong", &h));
        assert!(!verify("correct horse", "not-a-hash"));
    }

    #[test]
    fn the_policy_refuses_empty_short_long_and_common_passwords() {
        assert!(policy_violation("", 1, 10).is_some());
        assert!(policy_violation("   ", 1, 10).is_some());
        assert!(policy_violation("abc", 4, 10).is_some());
        assert!(policy_violation("abcdefghijk", 1, 10).is_some());
        assert!(policy_violation("Password", 1, 10).is_some());
        assert!(policy_violation("x", 1, 10).is_none());
        assert!(policy_violation("pw-secret", 8, 64).is_none());
    }

    #[tokio::test]
    async fn unknown_users_never_verify_and_a_full_pool_says_busy() {
        let hasher = Hasher::new(1, Duration::from_millis(50));
        assert!(!hasher.verify("x".into(), None).await.unwrap());
        let _held = hasher.slots.acquire().await.unwrap();
        assert!(hasher.hash("x".into()).await.is_err());
    }
}
