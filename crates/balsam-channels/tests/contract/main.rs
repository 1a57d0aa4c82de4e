//! The channel-layer contract: one set of stories, run on the in-process layer always and on
//! Redis when `BALSAM_TEST_REDIS_URL` is set (`BALSAM_TEST_REQUIRE_REDIS=1` makes a missing or
//! unreachable Redis a failure). Redis-only stories (replicas, outages) follow the shared ones;
//! the outage stories start a throwaway `redis-server` of their own.
//!
//! `support` holds the helpers, `layers` the layers under test, `shared` the stories every
//! layer passes; `config`, `redis_replicas` and `redis_outage` the rest.

#![expect(clippy::unwrap_used, reason = "tests fail loudly on purpose")]

mod config;
mod layers;
mod redis_outage;
mod redis_replicas;
mod shared;
mod support;
