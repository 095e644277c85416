//! `/api/messages`: keyset paging, every filter, detail, soft and batch delete, isolation.

use serde_json::json;

use crate::common::TestServer;
use crate::on_both_databases;

on_both_databases! {
    async fn pages_are_newest_first_and_complete(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let endpoint = server.endpoint(&user, "e").await;
        let mut sent = Vec::new();
        for i in 0..7 {
            sent.push(server.ingest_ok(&endpoint, json!({"body": format!("m{i}")})).await);
        }
        sent.reverse();
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/messages?limit=3&cursor={c}"),
                None => "/api/messages?limit=3".to_string(),
            };
            let page = server.get(&path, Some(&user.token)).await;
            page.assert_status(200);
            pages += 1;
            let items = page.json["items"].as_array().expect("items");
            assert!(items.len() <= 3);
            seen.extend(items.iter().map(|m| m["id"].as_str().expect("id").to_string()));
            match page.json["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, sent);

        let first = server.get("/api/messages?limit=1", Some(&user.token)).await;
        let item = &first.json["items"][0];
        assert_eq!(item["body_preview"], "m6");
        assert_eq!(item["endpoint_name"], "e");
        assert_eq!(item["deliveries"], json!({"total": 0, "sent": 0, "failed": 0, "pending": 0}));
        assert!(item["received_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    }

    async fn every_filter(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let a = server.endpoint(&user, "a").await;
        let b = server.endpoint(&user, "b").await;
        let backup = server.ingest_ok(&a, json!({"body": "Backup finished", "group": "nightly", "priority": 2, "tags": ["Backup", "nas"]})).await;
        let disk = server.ingest_ok(&a, json!({"body": "disk 100% FULL", "title": "Disk alarm", "priority": 5, "tags": ["ops"]})).await;
        // Two messages in one millisecond share a received_at; the `since`
        // split below needs the last one strictly later.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        let deploy = server.ingest_ok(&b, json!({"body": "deploy ok", "title": "CI_job", "group": "ci", "priority": 3, "tags": ["ci"]})).await;

        let ids = |query: &'static str| {
            let server = &server;
            let user = &user;
            async move {
                let mut ids = server.message_ids(user, query).await;
                ids.sort();
                ids
            }
        };
        let sorted = |mut v: Vec<&String>| {
            v.sort();
            v.into_iter().cloned().collect::<Vec<String>>()
        };
        assert_eq!(ids("").await.len(), 3);
        assert_eq!(server.message_ids(&user, &format!("&endpoint_id={}", a.id)).await.len(), 2);
        assert_eq!(server.message_ids(&user, &format!("&endpoint_id={}", b.id)).await, vec![deploy.clone()]);
        assert_eq!(ids("&q=FULL").await, vec![disk.clone()]);
        assert_eq!(ids("&q=disk%20alarm").await, vec![disk.clone()], "title matches too");
        assert_eq!(ids("&q=100%25").await, vec![disk.clone()], "% is literal");
        assert_eq!(ids("&q=CI_").await, vec![deploy.clone()], "_ is literal");
        assert!(ids("&q=nothing-like-this").await.is_empty());
        assert_eq!(ids("&group=nightly").await, vec![backup.clone()]);
        assert_eq!(ids("&priority_min=3").await, sorted(vec![&disk, &deploy]));
        assert_eq!(ids("&priority_max=3").await, sorted(vec![&backup, &deploy]));
        assert_eq!(ids("&priority_min=3&priority_max=3").await, vec![deploy.clone()]);
        assert_eq!(ids("&tag=backup").await, vec![backup.clone()], "tags match case-insensitively");
        assert_eq!(ids("&tag=NAS").await, vec![backup.clone()]);
        assert!(ids("&tag=missing").await.is_empty());
        assert_eq!(ids("&group=nightly&tag=nas&priority_max=2").await, vec![backup.clone()]);

        let future = "2999-01-01T00:00:00Z";
        let past = "2000-01-01T00:00:00Z";
        assert_eq!(server.message_ids(&user, &format!("&since={past}")).await.len(), 3);
        assert!(server.message_ids(&user, &format!("&since={future}")).await.is_empty());
        assert_eq!(server.message_ids(&user, &format!("&until={future}")).await.len(), 3);
        assert!(server.message_ids(&user, &format!("&until={past}")).await.is_empty());
        // A time between two messages splits them.
        let detail = server.get(&format!("/api/messages/{deploy}"), Some(&user.token)).await;
        let deploy_time = detail.json["received_at"].as_str().expect("time").to_string();
        let since = server.message_ids(&user, &format!("&since={}", deploy_time.replace('+', "%2B"))).await;
        assert_eq!(since, vec![deploy.clone()]);
    }

    async fn invalid_list_parameters(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=201", "limit"),
            ("limit=ten", "limit"),
            ("priority_min=0", "priority_min"),
            ("priority_max=6", "priority_max"),
            ("since=yesterday", "since"),
            ("until=2026-13-01T00:00:00Z", "until"),
            ("cursor=abc", "cursor"),
            ("endpoint_id=nope", "endpoint_id"),
        ] {
            server.get(&format!("/api/messages?{query}"), Some(&user.token)).await
                .assert_error(422, "validation_failed", Some(field));
        }
        server.get("/api/messages", None).await.assert_error(401, "missing_token", None);
    }

    async fn detail_delete_and_isolation(db: Db) {
        let server = TestServer::start(db).await;
        let alice = server.user().await;
        let bob = server.user().await;
        let endpoint = server.endpoint(&alice, "alice").await;
        let id = server.ingest_ok(&endpoint, json!({"body": "private"})).await;

        // Bob sees nothing of Alice's.
        server.get(&format!("/api/messages/{id}"), Some(&bob.token)).await.assert_error(404, "not_found", None);
        server.delete(&format!("/api/messages/{id}"), Some(&bob.token)).await.assert_error(404, "not_found", None);
        assert!(server.message_ids(&bob, "").await.is_empty());
        assert!(server.message_ids(&bob, &format!("&endpoint_id={}", endpoint.id)).await.is_empty());
        server.post("/api/messages/batch-delete", Some(&bob.token), json!({"older_than_days": 0, "ingest_endpoint_id": endpoint.id})).await
            .assert_error(404, "not_found", None);
        server.post("/api/messages/batch-delete", Some(&bob.token), json!({"older_than_days": 0})).await.assert_status(200);
        server.get(&format!("/api/messages/{id}"), Some(&alice.token)).await.assert_status(200);

        server.get("/api/messages/0192f0c1a2b37c4d8e9fa0b1c2d3e4f5", Some(&alice.token)).await.assert_error(404, "not_found", None);
        server.get("/api/messages/garbage", Some(&alice.token)).await.assert_error(404, "not_found", None);

        server.delete(&format!("/api/messages/{id}"), Some(&alice.token)).await.assert_status(204);
        server.get(&format!("/api/messages/{id}"), Some(&alice.token)).await.assert_error(404, "not_found", None);
        server.delete(&format!("/api/messages/{id}"), Some(&alice.token)).await.assert_error(404, "not_found", None);
        assert!(server.message_ids(&alice, "").await.is_empty());
    }

    async fn batch_delete_older_than(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let a = server.endpoint(&user, "a").await;
        let b = server.endpoint(&user, "b").await;
        for i in 0..5 {
            server.ingest_ok(&a, json!({"body": format!("a{i}")})).await;
        }
        let kept = server.ingest_ok(&b, json!({"body": "b"})).await;

        // Nothing is a day old yet.
        let reply = server.post("/api/messages/batch-delete", Some(&user.token), json!({"older_than_days": 1})).await;
        reply.assert_status(200);
        assert_eq!(reply.json["deleted"], 0);
        server.post("/api/messages/batch-delete", Some(&user.token), json!({"older_than_days": -1})).await
            .assert_error(422, "validation_failed", Some("older_than_days"));
        server.post("/api/messages/batch-delete", Some(&user.token), json!({})).await
            .assert_error(422, "validation_failed", Some("older_than_days"));

        // Everything of endpoint a, then nothing more.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let reply = server.post("/api/messages/batch-delete", Some(&user.token), json!({"older_than_days": 0, "ingest_endpoint_id": a.id})).await;
        reply.assert_status(200);
        assert_eq!(reply.json["deleted"], 5);
        assert_eq!(server.message_ids(&user, "").await, vec![kept]);
        let reply = server.post("/api/messages/batch-delete", Some(&user.token), json!({"older_than_days": 0, "ingest_endpoint_id": a.id})).await;
        assert_eq!(reply.json["deleted"], 0);
    }

    async fn batch_delete_by_age_in_steps(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let endpoint = server.endpoint(&user, "old").await;
        let fresh = server.ingest_ok(&endpoint, json!({"body": "fresh"})).await;
        let me = server.get("/api/auth/me", Some(&user.token)).await;
        let user_id = me.json["id"].as_str().expect("id");
        let day = 86_400_000_i64;
        let now = beacon_host::domain::now_ms();
        let mut old = Vec::new();
        for (i, age_days) in [3, 3, 3, 10].into_iter().enumerate() {
            let received_at = now - age_days * day - i as i64;
            old.push(aged_message(user_id, &endpoint.id, received_at));
        }
        server.state.store.insert_messages(&old).await.expect("insert old messages");

        let delete = |body: serde_json::Value| server.post("/api/messages/batch-delete", Some(&user.token), body);
        let reply = delete(json!({"older_than_days": 5})).await;
        reply.assert_status(200);
        assert_eq!((reply.json["deleted"].clone(), reply.json["remaining"].clone()), (json!(1), json!(0)), "{}", reply.text);
        let reply = delete(json!({"older_than_days": 2, "limit": 2})).await;
        assert_eq!((reply.json["deleted"].clone(), reply.json["remaining"].clone()), (json!(2), json!(1)), "{}", reply.text);
        let reply = delete(json!({"older_than_days": 2, "limit": 2})).await;
        assert_eq!((reply.json["deleted"].clone(), reply.json["remaining"].clone()), (json!(1), json!(0)), "{}", reply.text);
        assert_eq!(server.message_ids(&user, "").await, vec![fresh]);
        delete(json!({"older_than_days": 2, "limit": 0})).await.assert_error(422, "validation_failed", Some("limit"));
    }
}

/// A stored message received at `received_at` (its time-ordered id carries that time).
fn aged_message(
    user_id: &str,
    endpoint_id: &str,
    received_at: i64,
) -> beacon_host::storage::NewMessage {
    let timestamp = uuid::Timestamp::from_unix(
        uuid::NoContext,
        (received_at / 1000) as u64,
        ((received_at % 1000) * 1_000_000) as u32,
    );
    beacon_host::storage::NewMessage {
        user_id: user_id.to_string(),
        message: beacon_host::domain::Message {
            id: uuid::Uuid::new_v7(timestamp).simple().to_string(),
            endpoint_id: endpoint_id.to_string(),
            endpoint_name: String::new(),
            received_at,
            payload: beacon_host::domain::Payload {
                body: "old news".into(),
                title: None,
                group: None,
                priority: 3,
                tags: Vec::new(),
                url: None,
                extras: Default::default(),
            },
            request: beacon_host::domain::RequestFacts {
                content_type: "application/json".into(),
                size_bytes: 8,
                ..Default::default()
            },
            filter_errors: Vec::new(),
            deliver_at: None,
        },
        deliveries: Vec::new(),
    }
}
