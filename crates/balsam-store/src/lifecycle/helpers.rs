//! Small helpers the lifecycle's use cases share.

use crate::StoreError;
use balsam_types::Id;
use serde_json::{Map, Value};
use std::collections::HashSet;

pub(crate) fn bad(msg: &str) -> StoreError {
    StoreError::Invalid(msg.to_owned())
}

/// `{"message": msg}`.
pub(crate) fn one_message(msg: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("message".into(), msg.into());
    m
}

/// Distinct values in first-seen order.
pub(crate) fn distinct(values: impl Iterator<Item = Id>) -> Vec<Id> {
    let mut seen = HashSet::new();
    values.filter(|v| seen.insert(*v)).collect()
}
