//! The store contract: every story runs on SQLite, and on PostgreSQL when
//! `BALSAM_TEST_POSTGRES_URL` points at a server (each test gets a throwaway database,
//! dropped afterwards). `BALSAM_TEST_REQUIRE_POSTGRES=1` turns "unreachable" into a failure.
//!
//! Repetition note: each story sets up and checks its own world, spelled out, so a failing
//! story reads on its own; shared fixtures live in `support.rs` and `jobs.rs`.

#![expect(clippy::unwrap_used, reason = "tests fail loudly on purpose")]

mod aggregates;
mod apps;
mod change_log;
mod job_release;
mod jobs;
mod sessions;
mod sites;
mod support;
mod users;

/// Generates one `#[tokio::test]` per backend for each story function.
macro_rules! contract {
    ($($module:ident :: $story:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $story() {
                    let db = crate::support::sqlite().await;
                    crate::$module::$story(db.store.as_ref()).await;
                    db.cleanup().await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test]
                async fn $story() {
                    let Some(db) = crate::support::postgres().await else { return };
                    crate::$module::$story(db.store.as_ref()).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}

contract!(
    aggregates::throughput_and_utilization_agree_with_the_listed_events,
    aggregates::a_deleted_jobs_events_leave_the_charts,
    jobs::tag_counts_and_pages_follow_every_change,
    jobs::a_deleted_users_jobs_go_with_them,
    users::users_register_and_change_passwords,
    users::usernames_are_unique,
    users::token_generations_move_on_revocation_and_vanish_with_the_user,
    sites::sites_round_trip_every_field,
    sites::site_filters_and_pagination,
    sites::site_updates_write_present_fields_and_refresh,
    sites::site_names_are_unique_per_owner,
    sites::sites_are_invisible_to_other_users,
    sites::deleting_a_site_cascades_to_its_apps,
    apps::apps_round_trip_and_filter,
    apps::apps_need_an_owned_site_and_a_unique_name,
    apps::apps_move_between_owned_sites_only,
    apps::apps_are_invisible_to_other_users,
    jobs::creation_sets_initial_states_transfers_and_events,
    jobs::log_events_are_deleted_with_their_jobs,
    jobs::created_jobs_and_events_equal_what_a_read_returns,
    jobs::a_bad_item_rejects_the_whole_create,
    jobs::each_patch_applies_its_own_keys_and_writes_one_event_per_change,
    jobs::a_batch_of_same_shaped_patches_writes_every_column_kind,
    jobs::a_failed_bulk_update_changes_nothing,
    job_release::children_are_released_exactly_once_when_all_parents_finish,
    job_release::transfers_move_jobs_forward_and_stage_out_releases_children,
    jobs::query_updates_and_deletes_respect_filters_locks_and_limits,
    jobs::list_filters_and_orderings,
    sessions::acquire_filters_and_packs_nodes,
    sessions::ending_a_session_times_out_running_jobs_and_unlocks_the_rest,
    sessions::stale_sessions_and_finished_batch_jobs_are_swept,
    sessions::batch_jobs_follow_upstreams_update_rules,
    sessions::deleting_a_batch_job_or_session_unlinks_their_jobs,
    change_log::every_change_is_logged_in_order_with_full_instances,
    change_log::pruning_moves_the_first_available_sequence,
    change_log::replay_pages_are_cut_by_bytes,
);

/// Generates one multi-threaded `#[tokio::test]` per backend for each story that needs the
/// store shared between tasks (it takes an `Arc<dyn Store>`).
macro_rules! concurrent {
    ($($module:ident :: $story:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $story() {
                    let db = crate::support::sqlite().await;
                    crate::$module::$story(db.store.clone()).await;
                    db.cleanup().await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $story() {
                    let Some(db) = crate::support::postgres().await else { return };
                    crate::$module::$story(db.store.clone()).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}

/// Stories that need the store shared between tasks.
mod concurrency {
    concurrent!(
        job_release::concurrent_parent_completions_release_the_child_once,
        job_release::an_app_deleted_during_a_create_leaves_no_jobs,
        sessions::a_batch_job_deleted_during_a_patch_leaves_no_job_naming_it,
        change_log::pushed_counts_follow_concurrent_writers,
        sessions::concurrent_acquires_never_hand_out_a_job_twice,
        sessions::rare_filter_tags_find_their_jobs_behind_many_candidates,
    );
}
