//! Persistence for balsam-rs: the [`Store`] trait, split into per-resource traits whose
//! methods are use-case sized and own their transaction, with a SQLite and a PostgreSQL
//! implementation. Knows nothing of HTTP; never publishes events itself.

mod aggregates;
mod apps;
mod batch_jobs;
mod change_log;
mod connect;
mod error;
mod export;
mod jobs;
mod lifecycle;
mod log_events;
#[cfg(test)]
mod plan_shapes;
pub mod postgres;
mod sessions;
mod shared;
mod sites;
pub mod sqlite;
mod store;
mod transfers;
mod users;

pub use aggregates::AggregateStore;
pub use apps::AppStore;
pub use batch_jobs::BatchJobStore;
pub use change_log::{ChangeLogPage, ChangeLogStore, CommitListener};
pub use connect::{connect, migration_versions, redact_url};
pub use error::StoreError;
pub use export::JobExportStore;
pub use jobs::{JobStore, JobUpdate};
pub use log_events::LogEventStore;
pub use sessions::SessionStore;
pub use sites::SiteStore;
pub use store::{PoolStats, Store};
pub use transfers::TransferStore;
pub use users::{UserCredentials, UserStore};

#[cfg(test)]
mod tag_count_tests;
#[cfg(test)]
mod upgrade_tests;
