//! Users on SQLite: written once in [`crate::shared::users`].

crate::shared::users::user_store!(super::SqliteStore, sqlx::Sqlite);
