//! Balsam's wire and domain types: what the API accepts and returns, with upstream's
//! validation and coercion rules. No I/O, no HTTP, no SQL.

pub mod app;
pub mod page;
pub mod site;
pub mod time;
pub mod user;
pub mod validate;

pub use app::{App, AppCreate, AppParameter, AppQuery, AppUpdate, TransferDirection, TransferSlot};
pub use page::{Page, Paginated};
pub use site::{Site, SiteCreate, SiteQuery, SiteUpdate};
pub use user::{User, UserId};
pub use validate::{FieldError, LocPart, ValidationErrors};

/// Database ids as exchanged on the wire.
pub type Id = i64;
