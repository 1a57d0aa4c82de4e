//! Sites on SQLite: written once in [`crate::shared::sites`].

crate::shared::sites::site_store!(super::SqliteStore, sqlx::Sqlite);
