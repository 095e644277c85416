//! Tenant isolation at the store: another user's id reads as absent and
//! cannot be changed, on every owner-scoped method.

use beacon_host::domain::now_ms;
use beacon_host::storage::{DeliveryFilter, MessageFilter};

use super::open;
use crate::on_both_databases;

on_both_databases! {
    async fn another_users_rows_read_as_absent(db: Db) {
        let fx = open(db).await;
        let owner = fx.owner().await;
        let stranger = fx.owner().await;
        let stored = fx.message(&owner.user, &owner.endpoint, "private", &[owner.route()]).await;
        let delivery = &stored.deliveries[0];
        let s = &stranger.user;

        assert!(fx.store.message_for_user(s, &stored.id).await.expect("read").is_none());
        assert!(fx.store.delivery_for_user(s, delivery).await.expect("read").is_none());
        assert!(fx.store.channel_for_user(s, &owner.channel).await.expect("read").is_none());
        assert!(fx.store.rule_for_user(s, &owner.rule).await.expect("read").is_none());
        assert!(fx.store.endpoint_for_user(s, &owner.endpoint).await.expect("read").is_none());
        let all = MessageFilter { limit: 50, ..MessageFilter::default() };
        assert!(fx.store.list_messages(s, &all).await.expect("list").is_empty());
        let deliveries = DeliveryFilter { limit: 50, ..DeliveryFilter::default() };
        assert!(fx.store.list_deliveries(s, &deliveries).await.expect("list").is_empty());
        assert_eq!(fx.store.list_channels(s).await.expect("list").len(), 1, "only the stranger's own");
        assert_eq!(fx.store.list_rules(s).await.expect("list").len(), 1, "only the stranger's own");

        // The owner sees all of it.
        assert!(fx.store.message_for_user(&owner.user, &stored.id).await.expect("read").is_some());
        assert_eq!(fx.store.list_deliveries(&owner.user, &deliveries).await.expect("list").len(), 1);
    }

    async fn another_users_rows_cannot_be_changed_or_deleted(db: Db) {
        let fx = open(db).await;
        let owner = fx.owner().await;
        let stranger = fx.owner().await;
        let stored = fx.message(&owner.user, &owner.endpoint, "private", &[owner.route()]).await;
        let s = &stranger.user;

        assert!(!fx.store.soft_delete_message(s, &stored.id).await.expect("delete"));
        assert_eq!(fx.store.soft_delete_messages_before(s, now_ms() + 60_000, None, 100).await.expect("batch"), 0);
        assert!(!fx.store.delete_rule(s, &owner.rule).await.expect("delete"));
        assert!(!fx.store.delete_channel(s, &owner.channel).await.expect("delete"));
        assert!(fx.store.retire_endpoint(s, &owner.endpoint, true).await.expect("retire").is_none());

        let mut channel = fx.store.channel_for_user(&owner.user, &owner.channel).await.expect("read").expect("channel");
        channel.user_id = s.clone();
        channel.name = "hijacked".into();
        assert!(!fx.store.update_channel(&channel).await.expect("update"), "an update scoped to the wrong owner");
        let mut rule = fx.store.rule_for_user(&owner.user, &owner.rule).await.expect("read").expect("rule");
        rule.user_id = s.clone();
        rule.name = "hijacked".into();
        assert!(!fx.store.update_rule(&rule).await.expect("update"));

        // Everything of the owner's is intact.
        assert!(fx.store.message_for_user(&owner.user, &stored.id).await.expect("read").is_some());
        let channel = fx.store.channel_for_user(&owner.user, &owner.channel).await.expect("read").expect("channel");
        assert_eq!(channel.name, "phone");
        let rule = fx.store.rule_for_user(&owner.user, &owner.rule).await.expect("read").expect("rule");
        assert_eq!(rule.name, "all");
        let endpoint = fx.store.endpoint_for_user(&owner.user, &owner.endpoint).await.expect("read").expect("endpoint");
        assert_eq!((endpoint.revoked_at, endpoint.archived_at), (None, None));
    }
}
