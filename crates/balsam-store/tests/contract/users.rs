use balsam_store::{Store, StoreError};

pub async fn users_register_and_change_passwords(store: &dyn Store) {
    let user = store.create_user("alice", "h1").await.unwrap();
    assert_eq!(user.username, "alice");
    let creds = store.find_user_credentials("alice").await.unwrap().unwrap();
    assert_eq!(creds.user, user);
    assert_eq!(creds.password_hash.as_deref(), Some("h1"));
    store.set_user_password("alice", "h2").await.unwrap();
    let creds = store.find_user_credentials("alice").await.unwrap().unwrap();
    assert_eq!(creds.password_hash.as_deref(), Some("h2"));
    assert!(store.find_user_credentials("bob").await.unwrap().is_none());
    assert!(matches!(
        store.set_user_password("bob", "x").await,
        Err(StoreError::NotFound)
    ));
}

pub async fn usernames_are_unique(store: &dyn Store) {
    let first = store.create_user("carol", "h").await.unwrap();
    match store.create_user("carol", "other").await {
        Err(StoreError::Conflict { constraint }) => assert_eq!(constraint, "users_username_key"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let second = store.create_user("dave", "h").await.unwrap();
    assert_ne!(first.id, second.id);
}

pub async fn token_generations_move_on_revocation_and_vanish_with_the_user(store: &dyn Store) {
    let user = store.create_user("erin", "h").await.unwrap();
    let creds = store.find_user_credentials("erin").await.unwrap().unwrap();
    assert_eq!(creds.token_generation, 0);
    assert_eq!(store.token_generation(user.id).await.unwrap(), Some(0));
    assert_eq!(store.revoke_tokens(user.id).await.unwrap(), 1);
    store.set_user_password("erin", "h2").await.unwrap();
    assert_eq!(store.token_generation(user.id).await.unwrap(), Some(2));
    store.delete_user("erin").await.unwrap();
    assert_eq!(store.token_generation(user.id).await.unwrap(), None);
    assert!(matches!(
        store.revoke_tokens(user.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_user("erin").await,
        Err(StoreError::NotFound)
    ));
}
