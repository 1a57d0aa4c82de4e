//! Store code the two backends share. Most store methods are the same SQL on SQLite and
//! PostgreSQL; such a method is written once here and stamped out for each backend by a
//! `macro_rules!` (one per resource, expanded in the backend's module of that resource).
//! A macro names nothing at its expansion site: it takes the store type and the
//! `sqlx::Database` type, and reaches what differs through traits the compiler checks —
//! [`Dialect`] (SQL spelling and bound types, implemented on the database type in each
//! backend's `mod.rs`), [`Backend`] (the store's transactions and commit) and, where a
//! statement is written twice because the dialects differ (the JSON documents a bulk
//! write expands), a per-resource trait such as [`transfers::TransferSql`] that the
//! backend's file of that resource implements. What differs more than that (acquire's
//! locking, the lifecycle primitives, triggers) stays in the backend modules.
//!
//! Why macros rather than functions generic over `sqlx::Database`: such a function needs
//! its own copy of the executor, argument and per-type `Encode`/`Decode` bounds (Rust
//! does not imply them from a trait's where-clauses), which would outweigh the SQL it
//! shares. The expanded code is concrete, exactly what each backend had before.

pub(crate) mod acquire;
pub(crate) mod aggregates;
pub(crate) mod apps;
pub(crate) mod batch_jobs;
pub(crate) mod cascade;
pub(crate) mod change_log;
pub(crate) mod counts;
pub(crate) mod job_tx;
pub(crate) mod jobs;
pub(crate) mod log_events;
pub(crate) mod sessions;
pub(crate) mod sites;
pub(crate) mod transfers;
pub(crate) mod users;

use crate::StoreError;
use balsam_types::{Action, Outbox, Resource, UserId};
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
    /// A list of ids bound as one parameter: an `int8[]` on PostgreSQL, a JSON array
    /// text on SQLite. See [`Dialect::in_ids`].
    type Ids: Send;
    fn ids(ids: &[i64]) -> Self::Ids;
    /// The right-hand side of "`column` is one of the ids bound at `param`":
    /// `= ANY($n)` on PostgreSQL, `IN (SELECT value FROM json_each($n))` on SQLite.
    fn in_ids(param: &str) -> String;
    /// Appended to a `SELECT` in a write transaction whose rows of table `alias` must
    /// stay locked until commit (`FOR UPDATE OF alias`; nothing on SQLite).
    fn lock_rows_of(alias: &str) -> String;
    /// Appended to a `SELECT` in a write transaction whose rows of table `alias` must not
    /// be deleted (nor their key changed) until commit, while other writers may lock them
    /// the same way: what a foreign-key check takes (`FOR KEY SHARE OF alias`; nothing on
    /// SQLite).
    fn key_share_rows_of(alias: &str) -> String;
    /// A JSON document bound as one parameter (`jsonb` on PostgreSQL, text on SQLite).
    type Doc: Send;
    fn doc(v: serde_json::Value) -> Self::Doc;
    /// `AND` one containment test per `key:value` tag on the JSON object `column`.
    fn push_tag_filters(b: &mut QueryBuilder<'_, Self>, column: &str, tags: &[(String, String)]);
}

/// What each backend's store gives the code written once: its transactions, and the
/// commit that appends the change log and tells the commit listener.
#[async_trait::async_trait]
pub(crate) trait Backend: Send + Sync {
    type Db: Dialect;
    /// A write transaction (PostgreSQL: `SET LOCAL enable_seqscan = off`; SQLite:
    /// `BEGIN IMMEDIATE`, the database's write lock from the first statement).
    async fn write(&self) -> Result<sqlx::Transaction<'static, Self::Db>, StoreError>;
    /// A read transaction: one consistent snapshot for a count and its page.
    async fn read(&self) -> Result<sqlx::Transaction<'static, Self::Db>, StoreError>;
    /// The pool for single-statement reads outside a transaction.
    fn read_pool(&self) -> &sqlx::Pool<Self::Db>;
    /// Appends `out` to the owner's change log, commits, then hands the numbered entries
    /// to the commit listener (publish after commit, never before).
    async fn commit_with(
        &self,
        tx: sqlx::Transaction<'static, Self::Db>,
        owner: UserId,
        out: Outbox,
    ) -> Result<(), StoreError>;
    /// Where [`Backend::commit_with`] hands committed entries.
    fn notifier(&self) -> &crate::change_log::Notifier;

    /// Commits a transaction that created or updated one Site, App, BatchJob or Session,
    /// recording the change (`Action::Create` or `Action::Update`); returns the instance.
    async fn commit_one<T: Resource + Send + Sync + 'static>(
        &self,
        tx: sqlx::Transaction<'static, Self::Db>,
        owner: UserId,
        action: Action,
        item: T,
    ) -> Result<T, StoreError> {
        let mut out = Outbox::new();
        out.one(action, &item);
        self.commit_with(tx, owner, out).await?;
        Ok(item)
    }
}

/// The owner's latest change-log sequence number (0 before any change), `$1` = owner.
pub(crate) const HEAD_SEQ_SQL: &str =
    "SELECT COALESCE((SELECT seq FROM user_event_seq WHERE user_id = $1), 0)";

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

/// The owner's latest change-log sequence number, read on `$conn` (a `&mut` connection).
macro_rules! head_seq {
    ($conn:expr, $owner:expr) => {{
        let seq: i64 = sqlx::query_scalar($crate::shared::HEAD_SEQ_SQL)
            .bind($owner)
            .fetch_one($conn)
            .await?;
        seq
    }};
}
pub(crate) use head_seq;

/// Answers a listing: the total and one page of `$row`s (converted with `Into`), read in
/// one snapshot with the owner's change-log head. `$push(&mut builder, args…)` pushes
/// the listing's `FROM … WHERE …` (after `$from`, pushed first); `$order` is its
/// `ORDER BY` list. Expands to an `Ok(Paginated)` in a function returning
/// `Result<_, StoreError>`.
macro_rules! paged {
    ($store:expr, $owner:expr, $page:expr, $row:ty,
     select $columns:expr, from $from:expr, filters $push:ident($($arg:expr),*), order $order:expr) => {{
        let mut tx = $store.read().await?;
        let seq = $crate::shared::head_seq!(&mut *tx, $owner);
        let mut count = sqlx::QueryBuilder::new(format!("SELECT count(*){}", $from));
        $push(&mut count, $($arg),*);
        let count: i64 = count.build_query_scalar().fetch_one(&mut *tx).await?;
        let mut rows = sqlx::QueryBuilder::new(format!("SELECT {}{}", $columns, $from));
        $push(&mut rows, $($arg),*);
        rows.push(" ORDER BY ")
            .push($order)
            .push(" LIMIT ")
            .push_bind($page.limit)
            .push(" OFFSET ")
            .push_bind($page.offset);
        let results: Vec<$row> = rows.build_query_as().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(balsam_types::Paginated {
            count,
            results: results.into_iter().map(Into::into).collect(),
            seq,
        })
    }};
}
pub(crate) use paged;

/// Whether Site `$site` is `$owner`'s, read on `$conn` (a `&mut` connection).
macro_rules! site_owned {
    ($conn:expr, $owner:expr, $site:expr) => {{
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM sites WHERE id = $1 AND owner_id = $2")
                .bind($site)
                .bind($owner)
                .fetch_optional($conn)
                .await?;
        found.is_some()
    }};
}
pub(crate) use site_owned;

/// Reads one of the owner's rows with a `SELECT` whose `$1` is the id and `$2` the owner
/// (`NotFound` when there is none) and converts it. Expands to an `Ok(_)` in a function
/// returning `Result<_, StoreError>`.
macro_rules! get_owned {
    ($store:expr, $row:ty, $sql:expr, $id:expr, $owner:expr) => {{
        let row: $row = sqlx::query_as(&$sql)
            .bind($id)
            .bind($owner)
            .fetch_one($store.read_pool())
            .await?;
        Ok(row.into())
    }};
}
pub(crate) use get_owned;

/// Locks one of the owner's rows for the rest of the transaction `$tx`: `$sql` selects
/// its id, `$1` being the id and `$2` the owner; the dialect's `FOR UPDATE` is appended.
/// Returns `NotFound` from the enclosing function when there is no such row.
macro_rules! lock_owned {
    ($db:ty, $tx:expr, $sql:expr, $id:expr, $owner:expr) => {{
        let found: Option<i64> = sqlx::query_scalar(&format!(
            "{}{}",
            $sql,
            <$db as $crate::shared::Dialect>::FOR_UPDATE
        ))
        .bind($id)
        .bind($owner)
        .fetch_optional(&mut *$tx)
        .await?;
        if found.is_none() {
            return Err($crate::StoreError::NotFound);
        }
    }};
}
pub(crate) use lock_owned;

/// A connection idle at least this long is pinged before it is handed out.
const PING_IF_IDLE_FOR: std::time::Duration = std::time::Duration::from_secs(10);

/// Pool options both backends start from. sqlx pings every connection twice per use by
/// default: when it is returned (always; that flushes an abandoned transaction and drops a
/// broken connection) and again when it is next acquired (`test_before_acquire`). The
/// second ping is a whole extra round trip before every statement (a count call was two
/// round trips for one statement), and checks what the release ping checked moments ago:
/// here a connection is pinged on acquire only when it sat idle long enough to have been
/// cut meanwhile (a database restart, a proxy's idle timeout).
pub(crate) fn pool_options<DB: sqlx::Database>() -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new()
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_IF_IDLE_FOR {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}
