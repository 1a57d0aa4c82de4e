//! Sites on PostgreSQL: written once in [`crate::shared::sites`].

crate::shared::sites::site_store!(super::PostgresStore, sqlx::Postgres);
