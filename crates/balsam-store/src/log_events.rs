//! LogEvents: the state-transition history of jobs, as `GET /events/` lists it.

use crate::StoreError;
use balsam_types::{EventQuery, LogEvent, Page, Paginated, UserId};

#[async_trait::async_trait]
pub trait LogEventStore {
    async fn list_events(
        &self,
        owner: UserId,
        query: &EventQuery,
        page: Page,
    ) -> Result<Paginated<LogEvent>, StoreError>;
}
