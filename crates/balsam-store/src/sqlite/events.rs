//! LogEvents on SQLite: written once in [`crate::shared::events`].

crate::shared::events::event_store!(super::SqliteStore, sqlx::Sqlite);
