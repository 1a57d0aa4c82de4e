//! Storage errors, typed so the HTTP layer can map them to upstream's status codes.

/// What a store method can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist or belongs to another user (indistinguishable by design).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was violated; `constraint` names it (e.g. `sites_owner_name_key`).
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// The request cannot be applied as given (HTTP 400 with this message).
    #[error("invalid: {0}")]
    Invalid(String),
    /// The request names rows the caller does not have (HTTP 404 with this message).
    #[error("missing reference: {0}")]
    MissingReference(String),
    /// The database failed.
    #[error("database error")]
    Backend(#[source] sqlx::Error),
    /// A migration failed.
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::RowNotFound = err {
            return StoreError::NotFound;
        }
        if let Some(db) = err.as_database_error() {
            if db.is_unique_violation() {
                let constraint = db
                    .constraint()
                    .map(str::to_owned)
                    .unwrap_or_else(|| sqlite_constraint_name(db.message()));
                return StoreError::Conflict { constraint };
            }
        }
        StoreError::Backend(err)
    }
}

/// SQLite reports `UNIQUE constraint failed: sites.owner_id, sites.name`; map the column
/// list back to the constraint names the PostgreSQL schema uses.
fn sqlite_constraint_name(message: &str) -> String {
    let columns = message.rsplit(": ").next().unwrap_or(message);
    match columns {
        "sites.owner_id, sites.name" => "sites_owner_name_key",
        "apps.site_id, apps.name" => "apps_site_name_key",
        "users.username" => "users_username_key",
        other => other,
    }
    .to_owned()
}
