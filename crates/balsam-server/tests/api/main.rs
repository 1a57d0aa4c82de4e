//! API tests: the real server on port 0, driven over HTTP. SQLite by default; PostgreSQL
//! when `BALSAM_TEST_POSTGRES_URL` is set (a fresh database per test). Every test uses
//! fresh users instead of truncating tables.

#![expect(clippy::unwrap_used, reason = "tests fail loudly on purpose")]

mod aggregates;
mod apps;
mod auth;
mod bad_input;
mod export;
mod hardening;
mod health;
mod jobs;
mod openapi;
mod replicas;
mod sites;
mod support;
mod web;
mod ws;
