//! Request validation with pydantic v1's coercion rules and FastAPI's 422 error shape.
//!
//! Upstream parses every body with pydantic v1, and the official client depends on some of its
//! coercions (numbers sent where strings are expected, fractional ints, naive datetimes). Bodies
//! are therefore parsed from `serde_json::Value` by hand here, collecting every error with its
//! `loc`, instead of failing on the first one as serde would.

mod cx;
mod datetime;
mod python;
mod values;

pub use cx::*;
pub use datetime::*;
pub use python::*;
pub use values::*;

#[cfg(test)]
mod tests;
