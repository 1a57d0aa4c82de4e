//! LogEvents on PostgreSQL: written once in [`crate::shared::events`].

crate::shared::events::event_store!(super::PostgresStore, sqlx::Postgres);
