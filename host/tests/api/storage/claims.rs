//! Claiming due deliveries: leases, their expiry, and concurrent claimers.

use std::collections::HashSet;

use beacon_host::domain::{now_ms, DeliveryStatus, NextState};

use super::{finished, open, payload};
use crate::on_both_databases;

on_both_databases! {
    async fn a_claim_leases_due_work_with_what_its_attempt_needs(db: Db) {
        let fx = open(db).await;
        let owner = fx.owner().await;
        let stored = fx.message(&owner.user, &owner.endpoint, "disk full", &[owner.route()]).await;

        let work = fx.store.claim_deliveries("worker-a", 60_000, 10).await.expect("claim");
        assert_eq!(work.len(), 1);
        let item = &work[0];
        assert_eq!(item.delivery.id, stored.deliveries[0]);
        assert_eq!(item.delivery.user_id, owner.user);
        assert_eq!(item.delivery.attempt_count, 0);
        assert_eq!(item.channel.as_ref().map(|c| c.id.as_str()), Some(owner.channel.as_str()));
        let rule = item.rule.as_ref().expect("rule loaded").as_ref().expect("rule readable");
        assert_eq!(rule.id, owner.rule);
        let (message, deleted_at) = item.message.as_ref().expect("message loaded").as_ref().expect("readable");
        assert_eq!(message.payload.body, "disk full");
        assert_eq!(message.request.headers.get("user-agent").map(String::as_str), Some("conformance"));
        assert_eq!(*deleted_at, None);
        assert_eq!(fx.status_of(&owner, &stored.deliveries[0]).await, DeliveryStatus::Sending);

        // Leased: nobody else gets it while the lease runs.
        let again = fx.store.claim_deliveries("worker-b", 60_000, 10).await.expect("claim");
        assert!(again.is_empty(), "a leased delivery was claimed twice");
    }

    async fn a_claim_reports_a_deleted_channel_and_rule_as_missing(db: Db) {
        let fx = open(db).await;
        let owner = fx.owner().await;
        fx.message(&owner.user, &owner.endpoint, "x", &[owner.route()]).await;
        assert!(fx.store.delete_rule(&owner.user, &owner.rule).await.expect("delete rule"));
        assert!(fx.store.delete_channel(&owner.user, &owner.channel).await.expect("delete channel"));

        let work = fx.store.claim_deliveries("worker-a", 60_000, 10).await.expect("claim");
        assert_eq!(work.len(), 1, "the delivery outlives its rule and channel");
        assert!(work[0].channel.is_none());
        assert!(work[0].rule.is_none());
    }

    async fn work_that_is_not_due_yet_is_not_claimed(db: Db) {
        let fx = open(db).await;
        let owner = fx.owner().await;
        let future = now_ms() + 3_600_000;
        fx.message_at(&owner.user, &owner.endpoint, payload("later"), future, &[owner.route()]).await;
        let work = fx.store.claim_deliveries("worker-a", 60_000, 10).await.expect("claim");
        assert!(work.is_empty());
    }

    async fn an_expired_lease_is_claimed_again_and_the_old_holder_loses_it(db: Db) {
        let fx = open(db).await;
        let owner = fx.owner().await;
        let stored = fx.message(&owner.user, &owner.endpoint, "x", &[owner.route()]).await;
        let delivery = &stored.deliveries[0];

        // Worker a's lease is already over when it is granted (a worker that died).
        let first = fx.store.claim_deliveries("worker-a", -1, 10).await.expect("claim");
        assert_eq!(first.len(), 1);
        let second = fx.store.claim_deliveries("worker-b", 60_000, 10).await.expect("claim");
        assert_eq!(second.len(), 1, "an expired lease is claimable");
        assert_eq!(&second[0].delivery.id, delivery);

        // The late outcome of worker a changes nothing; worker b's counts.
        let late = fx.store.finish_attempts("worker-a", &[finished(delivery, 1, NextState::Sent)]).await.expect("finish");
        assert_eq!(late, vec![false]);
        assert_eq!(fx.status_of(&owner, delivery).await, DeliveryStatus::Sending);
        let done = fx.store.finish_attempts("worker-b", &[finished(delivery, 1, NextState::Sent)]).await.expect("finish");
        assert_eq!(done, vec![true]);
        assert_eq!(fx.status_of(&owner, delivery).await, DeliveryStatus::Sent);
    }

    async fn a_claim_takes_at_most_its_limit_oldest_first(db: Db) {
        let fx = open(db).await;
        let owner = fx.owner().await;
        let now = now_ms();
        let mut expected = Vec::new();
        for age in (1..=5).rev() {
            let stored = fx
                .message_at(&owner.user, &owner.endpoint, payload("x"), now - age * 1_000, &[owner.route()])
                .await;
            expected.push(stored.deliveries[0].clone());
        }
        let work = fx.store.claim_deliveries("worker-a", 60_000, 3).await.expect("claim");
        // Which ones is the contract; the order rows come back in is not.
        let mut ids: Vec<String> = work.iter().map(|w| w.delivery.id.clone()).collect();
        ids.sort();
        let mut oldest = expected[..3].to_vec();
        oldest.sort();
        assert_eq!(ids, oldest);
    }

    async fn concurrent_claimers_never_get_the_same_delivery(db: Db) {
        let fx = open(db).await;
        let owner = fx.owner().await;
        let mut all = HashSet::new();
        for n in 0..60 {
            let stored = fx.message(&owner.user, &owner.endpoint, &format!("m{n}"), &[owner.route()]).await;
            all.extend(stored.deliveries);
        }
        let claimers: Vec<_> = (0..4)
            .map(|n| {
                let store = fx.store.clone();
                tokio::spawn(async move {
                    let worker = format!("worker-{n}");
                    let mut mine = Vec::new();
                    loop {
                        let work = store.claim_deliveries(&worker, 60_000, 7).await.expect("claim");
                        if work.is_empty() {
                            return mine;
                        }
                        mine.extend(work.into_iter().map(|w| w.delivery.id));
                    }
                })
            })
            .collect();
        let mut claimed = Vec::new();
        for claimer in claimers {
            claimed.extend(claimer.await.expect("claimer"));
        }
        let distinct: HashSet<String> = claimed.iter().cloned().collect();
        assert_eq!(distinct.len(), claimed.len(), "a delivery was claimed twice");
        assert_eq!(distinct, all, "every delivery was claimed once");
    }
}
