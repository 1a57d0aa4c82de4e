//! Database ids as exchanged on the wire.

/// A row id (`int8`).
pub type Id = i64;
