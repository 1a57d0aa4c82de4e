//! The store contract: every story runs on SQLite, and on PostgreSQL when
//! `BALSAM_TEST_POSTGRES_URL` points at a server (each test gets a throwaway database,
//! dropped afterwards). `BALSAM_TEST_REQUIRE_POSTGRES=1` turns "unreachable" into a failure.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]

mod apps;
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
    users::users_register_and_change_passwords,
    users::usernames_are_unique,
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
);
