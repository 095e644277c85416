//! The dashboard's live and summary views: `GET /api/events` (SSE),
//! `GET /api/deliveries` and `GET /api/stats/activity`.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::bark::BarkReceiver;
use crate::common::sse::EventStream;
use crate::delivery::{pipeline, wait_for_status};
use crate::on_both_databases;

const WAIT: Duration = Duration::from_secs(10);

on_both_databases! {
    async fn events_stream_messages_and_delivery_changes_to_their_owner_only(db: Db) {
        let receiver = BarkReceiver::start(vec![]).await;
        let p = pipeline(db, &receiver.base_url, json!({"body": "{{message.body}}"}), None).await;
        let other = p.server.user().await;
        let mut mine = EventStream::open(&p.server.url("/api/events"), &p.user.token).await;
        let mut theirs = EventStream::open(&p.server.url("/api/events"), &other.token).await;

        let id = p.server.ingest_ok(&p.endpoint, json!({"body": "live"})).await;
        let message = mine.wait_for("message", WAIT, |data| data["id"] == id.as_str()).await;
        assert_eq!(message["endpoint_id"], p.endpoint.id.as_str());
        assert!(message["received_at"].as_str().is_some_and(|t| t.ends_with('Z')));
        let delivery = mine
            .wait_for("delivery", WAIT, |data| data["message_id"] == id.as_str() && data["status"] == "sent")
            .await;
        assert!(delivery["id"].as_str().is_some());

        // Another user's stream stays silent (only keep-alives would come).
        assert_eq!(theirs.next(Duration::from_millis(500)).await, None);
    }

    async fn events_stream_requires_a_valid_token(db: Db) {
        let receiver = BarkReceiver::start(vec![]).await;
        let p = pipeline(db, &receiver.base_url, json!({"body": "x"}), None).await;
        p.server.get("/api/events", None).await.assert_error(401, "missing_token", None);
        p.server.get("/api/events", Some("not-a-jwt")).await.assert_status(401);
    }

    async fn delivery_list_pages_and_filters_by_status(db: Db) {
        let receiver = BarkReceiver::start(vec![(400, json!({"code": 400, "message": "bad device"}))]).await;
        let p = pipeline(db, &receiver.base_url, json!({"body": "{{message.body}}"}), None).await;
        let failed = p.server.ingest_ok(&p.endpoint, json!({"title": "Disk", "body": "disk is full"})).await;
        wait_for_status(&p, &failed, "failed", WAIT).await;
        let sent = p.server.ingest_ok(&p.endpoint, json!({"body": "all good"})).await;
        wait_for_status(&p, &sent, "sent", WAIT).await;

        let failures = p.server.get("/api/deliveries?status=failed&limit=5", Some(&p.user.token)).await;
        failures.assert_status(200);
        let items = failures.json["items"].as_array().expect("items");
        assert_eq!(items.len(), 1, "{}", failures.text);
        assert_eq!(items[0]["message_id"], failed.as_str());
        assert_eq!(items[0]["message_title"], "Disk");
        assert_eq!(items[0]["message_preview"], "disk is full");
        assert_eq!(items[0]["channel_name"], "phone");
        assert_eq!(items[0]["rule_name"], "all");
        assert_eq!(items[0]["attempt_count"], 1);
        assert!(items[0]["last_error"].as_str().is_some_and(|e| !e.is_empty()));
        assert_eq!(failures.json["next_cursor"], Value::Null);

        // All statuses, newest change first, one per page.
        let first = p.server.get("/api/deliveries?limit=1", Some(&p.user.token)).await;
        first.assert_status(200);
        assert_eq!(first.json["items"][0]["message_id"], sent.as_str());
        let cursor = first.json["next_cursor"].as_str().expect("a second page").to_string();
        let second = p.server.get(&format!("/api/deliveries?limit=1&cursor={cursor}"), Some(&p.user.token)).await;
        assert_eq!(second.json["items"][0]["message_id"], failed.as_str());
        assert_eq!(second.json["next_cursor"], Value::Null);

        // Bad input names the field; other users see nothing.
        p.server.get("/api/deliveries?status=lost", Some(&p.user.token)).await.assert_error(422, "validation_failed", Some("status"));
        p.server.get("/api/deliveries?limit=0", Some(&p.user.token)).await.assert_error(422, "validation_failed", Some("limit"));
        p.server.get("/api/deliveries?cursor=abc", Some(&p.user.token)).await.assert_error(422, "validation_failed", Some("cursor"));
        p.server.get("/api/deliveries", None).await.assert_status(401);
        let other = p.server.user().await;
        let theirs = p.server.get("/api/deliveries", Some(&other.token)).await;
        assert_eq!(theirs.json["items"], json!([]));

        // Soft-deleted messages take their deliveries out of the list.
        p.server.delete(&format!("/api/messages/{failed}"), Some(&p.user.token)).await.assert_status(204);
        let after = p.server.get("/api/deliveries?status=failed", Some(&p.user.token)).await;
        assert_eq!(after.json["items"], json!([]));
    }

    async fn activity_counts_messages_and_outcomes_per_hour(db: Db) {
        let receiver = BarkReceiver::start(vec![(400, json!({"code": 400, "message": "bad device"}))]).await;
        let p = pipeline(db, &receiver.base_url, json!({"body": "{{message.body}}"}), None).await;
        let failed = p.server.ingest_ok(&p.endpoint, json!({"body": "one"})).await;
        wait_for_status(&p, &failed, "failed", WAIT).await;
        let sent = p.server.ingest_ok(&p.endpoint, json!({"body": "two"})).await;
        wait_for_status(&p, &sent, "sent", WAIT).await;

        let stats = p.server.get("/api/stats/activity", Some(&p.user.token)).await;
        stats.assert_status(200);
        assert_eq!(stats.json["bucket_seconds"], 3600);
        let buckets = stats.json["buckets"].as_array().expect("buckets");
        assert_eq!(buckets.len(), 24);
        let total = |key: &str| buckets.iter().map(|b| b[key].as_i64().unwrap_or(0)).sum::<i64>();
        assert_eq!((total("messages"), total("sent"), total("failed")), (2, 1, 1), "{}", stats.text);
        // Everything happened just now: the last bucket holds it.
        assert_eq!(buckets[23]["messages"], 2);
        assert!(buckets[0]["start"].as_str() < buckets[23]["start"].as_str());

        let week = p.server.get("/api/stats/activity?hours=168", Some(&p.user.token)).await;
        assert_eq!(week.json["buckets"].as_array().map(Vec::len), Some(168));
        p.server.get("/api/stats/activity?hours=0", Some(&p.user.token)).await.assert_error(422, "validation_failed", Some("hours"));
        p.server.get("/api/stats/activity?hours=169", Some(&p.user.token)).await.assert_error(422, "validation_failed", Some("hours"));
        p.server.get("/api/stats/activity?hours=abc", Some(&p.user.token)).await.assert_status(422);

        let other = p.server.user().await;
        let theirs = p.server.get("/api/stats/activity", Some(&other.token)).await;
        let sum: i64 = theirs.json["buckets"].as_array().expect("buckets").iter()
            .map(|b| b["messages"].as_i64().unwrap_or(0) + b["sent"].as_i64().unwrap_or(0) + b["failed"].as_i64().unwrap_or(0)).sum();
        assert_eq!(sum, 0);
    }
}
