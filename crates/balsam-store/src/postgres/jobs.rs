//! Jobs on PostgreSQL: written once in [`crate::shared::jobs`]; the SQL that differs is
//! [`super::job_queries`].

crate::shared::jobs::job_store!(super::PostgresStore, sqlx::Postgres);
