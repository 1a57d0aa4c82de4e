//! Store code the two backends share. Most store methods are the same SQL on SQLite and
//! PostgreSQL; such a method is written once here and stamped out for each backend by a
//! `macro_rules!` (one per resource, expanded in the backend's module of that resource),
//! reaching what differs through [`Dialect`], which each backend implements in its
//! `mod.rs`. Methods whose SQL really differs stay in the backend modules.
//!
//! Why macros rather than functions generic over `sqlx::Database`: such a function needs
//! its own copy of the executor, argument and per-type `Encode`/`Decode` bounds (Rust
//! does not imply them from a trait's where-clauses), which would outweigh the SQL it
//! shares. The expanded code is concrete, exactly what each backend had before.

pub(crate) mod acquire;
pub(crate) mod aggregates;
pub(crate) mod apps;
pub(crate) mod cascade;
pub(crate) mod counts;
pub(crate) mod jobs;
pub(crate) mod log_events;
pub(crate) mod sites;
pub(crate) mod transfers;
pub(crate) mod users;

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};
use uuid::Uuid;

/// What the two SQL dialects disagree on, for the code written once in this module.
pub(crate) trait Dialect: Database {
    /// The function giving the 1-based position of a substring (0 when absent):
    /// `instr(haystack, needle)` on SQLite, `strpos(haystack, needle)` on PostgreSQL.
    const STRPOS: &'static str;
    /// Appended to a `SELECT` in a write transaction whose rows must stay locked until
    /// commit: `FOR UPDATE` on PostgreSQL; nothing on SQLite, where `BEGIN IMMEDIATE`
    /// already holds the database's write lock.
    const FOR_UPDATE: &'static str;
    /// Run before a page query that an index reads in its order, so the planner cannot
    /// prefer a sort of what it guesses (without statistics) are a few rows:
    /// `SET LOCAL enable_sort = off` on PostgreSQL; nothing on SQLite, whose plans the
    /// queries pin themselves (docs/store-performance.md).
    const PRICE_OUT_SORT: Option<&'static str>;
    /// How a timestamp column is bound and read: integer microseconds since the epoch on
    /// SQLite, `TIMESTAMP` (UTC, without time zone) on PostgreSQL.
    type Time;
    fn time(t: &DateTime<Utc>) -> Self::Time;
    fn from_time(t: Self::Time) -> DateTime<Utc>;
    /// How a UUID column is bound and read: text on SQLite (an unparsable value reads
    /// as none), `uuid` on PostgreSQL.
    type Uuid;
    fn uuid(u: Uuid) -> Self::Uuid;
    fn from_uuid(u: Self::Uuid) -> Option<Uuid>;
}

/// Binds a list of ids as a SQL `IN (…)` list (the caller has pushed `IN (`).
pub(crate) fn push_id_list<'a, DB: Database>(b: &mut QueryBuilder<'a, DB>, ids: &[i64])
where
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut sep = b.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    b.push(")");
}
