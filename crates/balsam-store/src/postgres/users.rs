//! Users on PostgreSQL: written once in [`crate::shared::users`].

crate::shared::users::user_store!(super::PostgresStore, sqlx::Postgres);
