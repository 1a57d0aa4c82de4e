//! Pagination: `limit`/`offset` and the `{count, results}` envelope (spec §1.5).

use serde::Serialize;
use utoipa::ToSchema;

/// Upstream's `MAX_PAGE_SIZE`: the default and the maximum `limit`.
pub const MAX_PAGE_SIZE: i64 = 100_000;

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            limit: MAX_PAGE_SIZE,
            offset: 0,
        }
    }
}

/// A page of results with the total count of matching rows.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Paginated<T> {
    pub count: i64,
    pub results: Vec<T>,
    /// The caller's event-log sequence number this page reflects (read in the same
    /// snapshot as the rows); sent as the `X-Balsam-Seq` header, not in the body.
    #[serde(skip)]
    pub seq: i64,
}
