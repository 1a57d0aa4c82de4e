//! Apps on PostgreSQL: written once in [`crate::shared::apps`].

crate::shared::apps::app_store!(super::PostgresStore, sqlx::Postgres);
