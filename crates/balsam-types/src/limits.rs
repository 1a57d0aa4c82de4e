//! Size limits of free-form fields and of id and tag lists (docs/security.md lists them).
//! Upstream's own limits (`MAX_SERIALIZED_SIZE`, `MAX_APP_SERIALIZED_SIZE`, column sizes)
//! stay where they are; these bound what upstream left unbounded.

/// `tags` and `filter_tags` objects, as compact JSON. Tags are short labels (upstream
/// suggests a handful per job); 16 KiB is hundreds of them.
pub const MAX_TAGS_BYTES: usize = 16 * 1024;
/// Parameter objects that end up on a command line or in a scheduler script
/// (`launch_params`, `optional_params`, `optional_batch_job_params`, `status_info`).
pub const MAX_PARAMS_BYTES: usize = 64 * 1024;
/// Free-form data kept for the user (`Job.data`, `state_data`, `transfer_info`, an App's
/// `parameters` and `transfers`): 1 MiB, twice upstream's 512 000-character limit on
/// serialized parameters, the largest thing a job carries.
pub const MAX_DATA_BYTES: usize = 1024 * 1024;
/// An App's `description` (upstream's limit on the serialized App itself,
/// `MAX_APP_SERIALIZED_SIZE`). Its `source_code` is bounded by the body limit only: the
/// SDK's tests store 20 MB of it, as upstream allows.
pub const MAX_TEXT_BYTES: usize = 262_144;
/// `app_ids` in one acquire. A launcher sends the ids of its Site's Apps; 10 000 is far
/// above any Site's count and within every backend's bound-parameter limit.
pub const MAX_ACQUIRE_APP_IDS: usize = 10_000;
/// Keys of `filter_tags` in one acquire (each is a condition of the query).
pub const MAX_FILTER_TAGS: usize = 100;
/// Values of one repeated query parameter (`?id=1&id=2…`, `?tags=k:v…`).
pub const MAX_QUERY_VALUES: usize = 10_000;
/// Tag conditions in one list query (`?tags=k:v`, `?filter_tags=…`, `?data=…`).
pub const MAX_TAG_FILTERS: usize = 100;
