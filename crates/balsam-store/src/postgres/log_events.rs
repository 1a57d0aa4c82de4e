//! LogEvents on PostgreSQL: written once in [`crate::shared::log_events`].

crate::shared::log_events::log_event_store!(super::PostgresStore, sqlx::Postgres);
