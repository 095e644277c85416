//! Recording attempts: the state each outcome leads to, the attempt history,
//! the worker's exchange (finish and claim in one transaction) and manual retry.

use beacon_host::domain::{now_ms, DeliveryStatus, NextState};

use super::{finished, open};
use crate::on_both_databases;

on_both_databases! {
    async fn each_outcome_moves_the_delivery_and_keeps_its_attempt(db: Db) {
        let fx = open(db).await;
        let owner = fx.owner().await;
        let routes = [owner.route(), owner.route(), owner.route()];
        let stored = fx.message(&owner.user, &owner.endpoint, "x", &routes).await;
        let [sent, retry, failed] = [&stored.deliveries[0], &stored.deliveries[1], &stored.deliveries[2]];
        let work = fx.store.claim_deliveries("worker-a", 60_000, 10).await.expect("claim");
        assert_eq!(work.len(), 3);

        let retry_at = now_ms() + 3_600_000;
        let moved = fx
            .store
            .finish_attempts("worker-a", &[
                finished(sent, 1, NextState::Sent),
                finished(retry, 1, NextState::RetryAt(retry_at)),
                finished(failed, 1, NextState::Failed),
            ])
            .await
            .expect("finish");
        assert_eq!(moved, vec![true, true, true]);

        let (rows, attempts) = fx.store.deliveries_of_message(&stored.id).await.expect("history");
        let row = |id: &str| rows.iter().find(|r| r.id == id).expect("row").clone();
        assert_eq!(row(sent).status, DeliveryStatus::Sent);
        assert!(row(sent).sent_at.is_some());
        assert_eq!(row(retry).status, DeliveryStatus::Retry);
        assert_eq!(row(retry).next_attempt_at, retry_at);
        assert_eq!(row(retry).last_error.as_deref(), Some("upstream unavailable"));
        assert_eq!(row(failed).status, DeliveryStatus::Failed);
        assert!(rows.iter().all(|r| r.attempt_count == 1));
        assert_eq!(row(sent).rule_name.as_deref(), Some("all"));
        assert_eq!(row(sent).channel_name.as_deref(), Some("phone"));

        assert_eq!(attempts.len(), 3);
        let attempt = attempts.iter().find(|a| &a.delivery_id == sent).expect("attempt");
        assert_eq!(attempt.outcome, DeliveryStatus::Sent);
        assert_eq!(attempt.http_status, Some(200));
        assert_eq!(attempt.response_snippet.as_deref(), Some("{\"code\":200}"));

        // The retry is not due for an hour; the others are final.
        let next = fx.store.claim_deliveries("worker-a", 60_000, 10).await.expect("claim");
        assert!(next.is_empty());
    }

    async fn the_exchange_records_outcomes_and_claims_new_work_together(db: Db) {
        let fx = open(db).await;
        let owner = fx.owner().await;
        let first = fx.message(&owner.user, &owner.endpoint, "first", &[owner.route()]).await;
        let claimed = fx.store.claim_deliveries("worker-a", 60_000, 10).await.expect("claim");
        assert_eq!(claimed.len(), 1);
        let second = fx.message(&owner.user, &owner.endpoint, "second", &[owner.route()]).await;

        let (moved, work) = fx
            .store
            .exchange_deliveries("worker-a", &[finished(&first.deliveries[0], 1, NextState::RetryAt(now_ms() - 1))], 60_000, 10)
            .await
            .expect("exchange");
        assert_eq!(moved, vec![true]);
        let mut ids: Vec<String> = work.iter().map(|w| w.delivery.id.clone()).collect();
        ids.sort();
        let mut expected = vec![first.deliveries[0].clone(), second.deliveries[0].clone()];
        expected.sort();
        assert_eq!(ids, expected, "a retry already due is claimed again in the same exchange");
        let again = work.iter().find(|w| w.delivery.id == first.deliveries[0]).expect("retry claimed");
        assert_eq!(again.delivery.attempt_count, 1);
    }

    async fn a_user_retry_requeues_only_a_failed_delivery(db: Db) {
        let fx = open(db).await;
        let owner = fx.owner().await;
        let stranger = fx.owner().await;
        let routes = [owner.route(), owner.route()];
        let stored = fx.message(&owner.user, &owner.endpoint, "x", &routes).await;
        let [failed, sent] = [&stored.deliveries[0], &stored.deliveries[1]];
        fx.store.claim_deliveries("worker-a", 60_000, 10).await.expect("claim");
        fx.store
            .finish_attempts("worker-a", &[finished(failed, 1, NextState::Failed), finished(sent, 1, NextState::Sent)])
            .await
            .expect("finish");

        assert_eq!(fx.store.retry_delivery(&stranger.user, failed).await.expect("retry"), None, "another user's delivery");
        assert_eq!(fx.store.retry_delivery(&owner.user, "0000").await.expect("retry"), None);
        assert_eq!(fx.store.retry_delivery(&owner.user, sent).await.expect("retry"), Some(false));
        assert_eq!(fx.store.retry_delivery(&owner.user, failed).await.expect("retry"), Some(true));
        assert_eq!(fx.status_of(&owner, failed).await, DeliveryStatus::Queued);

        let work = fx.store.claim_deliveries("worker-a", 60_000, 10).await.expect("claim");
        assert_eq!(work.len(), 1);
        assert_eq!(&work[0].delivery.id, failed);
        assert_eq!(work[0].delivery.attempt_count, 1, "the attempt count survives a retry");
    }
}
