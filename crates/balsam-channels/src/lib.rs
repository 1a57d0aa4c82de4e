//! The channel layer: per-user publish/subscribe of resource changes between
//! server replicas. Empty until the event-stream work lands (issue 4); it must
//! never depend on HTTP or on the database.
