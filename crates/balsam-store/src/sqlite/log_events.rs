//! LogEvents on SQLite: written once in [`crate::shared::log_events`].

crate::shared::log_events::log_event_store!(super::SqliteStore, sqlx::Sqlite);
