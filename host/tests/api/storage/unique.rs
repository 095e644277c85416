//! Unique violations surface as such on both databases, so `app` can answer
//! 409 instead of 500.

use beacon_host::domain::new_id;
use beacon_host::storage::TokenPurpose;

use super::{open, payload};
use crate::common::unique_email;
use crate::on_both_databases;

on_both_databases! {
    async fn a_taken_email_is_a_unique_violation_whatever_its_case(db: Db) {
        let fx = open(db).await;
        let email = unique_email("taken");
        fx.store.insert_user(&new_id(), &email, "hash", true).await.expect("first");
        let error = fx
            .store
            .insert_user(&new_id(), &email.to_uppercase(), "hash", true)
            .await
            .expect_err("the same address in capitals");
        assert!(error.is_unique_violation(), "{error}");
        let other = fx.store.insert_user(&new_id(), &unique_email("free"), "hash", true).await;
        assert!(other.is_ok(), "{other:?}");
    }

    async fn a_repeated_message_id_is_a_unique_violation_and_stores_nothing(db: Db) {
        let fx = open(db).await;
        let owner = fx.owner().await;
        let stored = fx.message(&owner.user, &owner.endpoint, "original", &[]).await;
        let original = fx.store.message_for_user(&owner.user, &stored.id).await.expect("read").expect("stored");

        let mut copy = original.clone();
        copy.payload = payload("impostor");
        let new = beacon_host::storage::NewMessage { user_id: owner.user.clone(), message: copy, deliveries: Vec::new() };
        let error = fx.store.insert_messages(&[new]).await.expect_err("same id");
        assert!(error.is_unique_violation(), "{error}");
        let after = fx.store.message_for_user(&owner.user, &stored.id).await.expect("read").expect("stored");
        assert_eq!(after.payload.body, "original");
    }

    async fn a_repeated_token_hash_is_a_unique_violation(db: Db) {
        let fx = open(db).await;
        let user = fx.user().await;
        let later = beacon_host::domain::now_ms() + 60_000;
        fx.store.insert_refresh_token(&user, "family-1", "hash-1", later).await.expect("first");
        let error = fx
            .store
            .insert_refresh_token(&user, "family-2", "hash-1", later)
            .await
            .expect_err("the same hash again");
        assert!(error.is_unique_violation(), "{error}");
        fx.store
            .insert_user_token(&user, TokenPurpose::VerifyEmail, "hash-2", None, later)
            .await
            .expect("first");
        let error = fx
            .store
            .insert_user_token(&user, TokenPurpose::VerifyEmail, "hash-2", None, later)
            .await
            .expect_err("the same hash again");
        assert!(error.is_unique_violation(), "{error}");
    }
}
