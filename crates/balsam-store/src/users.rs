//! Users and their password hashes.

use crate::StoreError;
use balsam_types::User;

/// A user with the stored password hash (None for users created by an OAuth flow).
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: Option<String>,
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
    /// Replaces a user's password hash; `NotFound` when there is no such user.
    async fn set_user_password(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<(), StoreError>;
}
