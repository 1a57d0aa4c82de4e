//! Users and their password hashes.

use crate::StoreError;
use balsam_types::{User, UserId};

/// A user with the stored password hash (None for users created by an OAuth flow).
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: Option<String>,
    /// Tokens issued now carry this; a request with an older one is refused.
    pub token_generation: i64,
}

#[async_trait::async_trait]
pub trait UserStore {
    /// Creates a user; `Conflict { constraint: "users_username_key" }` when the name is taken.
    async fn create_user(&self, username: &str, password_hash: &str) -> Result<User, StoreError>;
    /// Looks a user up by name, with the hash, for login.
    async fn find_user_credentials(
        &self,
        username: &str,
    ) -> Result<Option<UserCredentials>, StoreError>;
    /// Replaces a user's password hash and revokes their tokens (bumps the token
    /// generation); `NotFound` when there is no such user.
    async fn set_user_password(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<(), StoreError>;
    /// The user's current token generation; `None` when the user no longer exists.
    async fn token_generation(&self, user: UserId) -> Result<Option<i64>, StoreError>;
    /// Revokes every token issued to the user so far; returns the new generation.
    /// `NotFound` when there is no such user.
    async fn revoke_tokens(&self, user: UserId) -> Result<i64, StoreError>;
    /// Deletes a user and everything they own; `NotFound` when there is no such user.
    async fn delete_user(&self, username: &str) -> Result<(), StoreError>;
}
