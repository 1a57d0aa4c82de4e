//! Users, on both backends: the SQL differs only in how `created_at` is bound.
//!
//! Repetition note: the password change and the delete share their not-found check.

/// `impl UserStore for $store`, where `$db` is the store's `sqlx::Database`.
macro_rules! user_store {
    ($store:ty, $db:ty) => {
        use crate::shared::{Backend as _, Dialect};
        use crate::{StoreError, UserCredentials, UserStore};
        use balsam_types::{User, UserId};

        type Db = $db;

        #[async_trait::async_trait]
        impl UserStore for $store {
            async fn create_user(
                &self,
                username: &str,
                password_hash: &str,
            ) -> Result<User, StoreError> {
                let mut tx = self.write().await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO users (username, hashed_password, created_at) \
                     VALUES ($1, $2, $3) RETURNING id",
                )
                .bind(username)
                .bind(password_hash)
                .bind(Db::time(&balsam_types::time::now()))
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(User {
                    id,
                    username: username.to_owned(),
                })
            }

            async fn find_user_credentials(
                &self,
                username: &str,
            ) -> Result<Option<UserCredentials>, StoreError> {
                let row: Option<(i64, String, Option<String>, i64)> = sqlx::query_as(
                    "SELECT id, username, hashed_password, token_generation \
                     FROM users WHERE username = $1",
                )
                .bind(username)
                .fetch_optional(self.read_pool())
                .await?;
                Ok(row.map(
                    |(id, username, password_hash, token_generation)| UserCredentials {
                        user: User { id, username },
                        password_hash,
                        token_generation,
                    },
                ))
            }

            async fn set_user_password(
                &self,
                username: &str,
                password_hash: &str,
            ) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                let done = sqlx::query(
                    "UPDATE users SET hashed_password = $1, \
                     token_generation = token_generation + 1 WHERE username = $2",
                )
                .bind(password_hash)
                .bind(username)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                tx.commit().await?;
                Ok(())
            }

            async fn token_generation(&self, user: UserId) -> Result<Option<i64>, StoreError> {
                Ok(
                    sqlx::query_scalar("SELECT token_generation FROM users WHERE id = $1")
                        .bind(user)
                        .fetch_optional(self.read_pool())
                        .await?,
                )
            }

            async fn revoke_tokens(&self, user: UserId) -> Result<i64, StoreError> {
                let mut tx = self.write().await?;
                let generation: Option<i64> = sqlx::query_scalar(
                    "UPDATE users SET token_generation = token_generation + 1 \
                     WHERE id = $1 RETURNING token_generation",
                )
                .bind(user)
                .fetch_optional(&mut *tx)
                .await?;
                let generation = generation.ok_or(StoreError::NotFound)?;
                tx.commit().await?;
                Ok(generation)
            }

            async fn delete_user(&self, username: &str) -> Result<(), StoreError> {
                let mut tx = self.write().await?;
                let done = sqlx::query("DELETE FROM users WHERE username = $1")
                    .bind(username)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}
pub(crate) use user_store;
