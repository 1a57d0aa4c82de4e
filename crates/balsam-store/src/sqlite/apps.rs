//! Apps on SQLite: written once in [`crate::shared::apps`].

crate::shared::apps::app_store!(super::SqliteStore, sqlx::Sqlite);
