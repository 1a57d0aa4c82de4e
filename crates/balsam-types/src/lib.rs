//! Balsam's wire and domain types: what the API accepts and returns, with upstream's
//! validation and coercion rules. No I/O, no HTTP, no SQL.

pub mod aggregates;
pub mod app;
pub mod batch_job;
pub mod change;
pub mod id;
pub mod job;
pub mod job_state;
pub mod limits;
pub mod log_event;
pub mod page;
pub mod session;
pub mod site;
pub mod time;
pub mod transfer;
pub mod user;
pub mod validate;

pub use app::{App, AppCreate, AppParameter, AppQuery, AppUpdate, TransferDirection, TransferSlot};
pub use batch_job::{BatchJob, BatchJobCreate, BatchJobPatch, BatchJobQuery};
pub use change::{Action, Kind, LoggedEvent, Outbox, Resource};
pub use id::Id;
pub use job::{Job, JobBulkPatch, JobCreate, JobOrdering, JobPatch, JobQuery};
pub use job_state::JobState;
pub use log_event::{EventQuery, LogEvent, SiteStateCounts};
pub use page::{Page, Paginated};
pub use session::{Session, SessionAcquire, SessionCreate};
pub use site::{Site, SiteCreate, SiteQuery, SiteUpdate};
pub use transfer::{TransferItem, TransferPatch, TransferQuery};
pub use user::{User, UserId};
pub use validate::{FieldError, LocPart, ValidationErrors};
