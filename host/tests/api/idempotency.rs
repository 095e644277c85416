//! `Idempotency-Key` on ingest: a retried request answers the first
//! message's id and stores nothing; the same key for another message is
//! refused; racing duplicates create exactly one message, also across two
//! web processes on PostgreSQL.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{Db, Reply, TestEndpoint, TestServer, TestUser};
use crate::filters::second_web_process;
use crate::on_both_databases;

async fn ingest_with_key(
    server: &TestServer,
    endpoint: &TestEndpoint,
    key: &str,
    body: Value,
) -> Reply {
    server
        .send(
            server
                .request(Method::POST, &format!("/api/ingest/{}", endpoint.id), None)
                .header("X-Beacon-Ingest-Key", &endpoint.key)
                .header("Idempotency-Key", key)
                .json(&body),
        )
        .await
}

async fn message_count(server: &TestServer, user: &TestUser) -> usize {
    server.message_ids(user, "").await.len()
}

fn replayed(reply: &Reply) -> Option<String> {
    reply
        .headers
        .get("idempotent-replayed")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

on_both_databases! {
    async fn a_retry_answers_the_first_message_and_stores_nothing(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let endpoint = server.endpoint(&user, "idem").await;
        let first = ingest_with_key(&server, &endpoint, "order-1234", json!({"body": "paid", "priority": 4})).await;
        first.assert_status(201);
        assert_eq!(replayed(&first), None);
        // The same message, formatted differently, is the same message.
        let retry = ingest_with_key(&server, &endpoint, "order-1234", json!({"priority": 4, "body": "paid"})).await;
        retry.assert_status(201);
        assert_eq!(retry.json["message_id"], first.json["message_id"]);
        assert_eq!(replayed(&retry).as_deref(), Some("true"));
        assert_eq!(message_count(&server, &user).await, 1);

        ingest_with_key(&server, &endpoint, "order-1234", json!({"body": "refunded"})).await
            .assert_error(422, "idempotency_key_reused", Some("Idempotency-Key"));
        // Keys belong to one endpoint; another key is another message.
        let other_endpoint = server.endpoint(&user, "other").await;
        let elsewhere = ingest_with_key(&server, &other_endpoint, "order-1234", json!({"body": "paid", "priority": 4})).await;
        elsewhere.assert_status(201);
        assert_ne!(elsewhere.json["message_id"], first.json["message_id"]);
        ingest_with_key(&server, &endpoint, "order-1235", json!({"body": "paid"})).await.assert_status(201);
        assert_eq!(message_count(&server, &user).await, 3);
        // A refused body claims nothing: fixing it under the same key works.
        ingest_with_key(&server, &endpoint, "fix-me", json!({"body": ""})).await
            .assert_error(422, "validation_failed", Some("body"));
        ingest_with_key(&server, &endpoint, "fix-me", json!({"body": "fixed"})).await.assert_status(201);
        ingest_with_key(&server, &endpoint, &"k".repeat(256), json!({"body": "x"})).await
            .assert_error(422, "validation_failed", Some("Idempotency-Key"));

        // The compatible routes honour it too.
        let ntfy = |key: &'static str| {
            server.request(Method::POST, &format!("/compat/ntfy/{}", endpoint.id), None)
                .header("Authorization", format!("Bearer {}", endpoint.key))
                .header("Idempotency-Key", key)
                .body("from ntfy")
        };
        let a = server.send(ntfy("ntfy-1")).await;
        let b = server.send(ntfy("ntfy-1")).await;
        assert_eq!((a.status, b.status), (200, 200));
        assert_eq!(a.json["id"], b.json["id"]);
        assert_eq!(replayed(&b).as_deref(), Some("true"));
    }

    async fn racing_duplicates_create_one_message(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let endpoint = server.endpoint(&user, "race").await;
        let attempts = (0..12).map(|_| ingest_with_key(&server, &endpoint, "same-moment", json!({"body": "once"})));
        let replies = futures_util::future::join_all(attempts).await;
        let ids: std::collections::BTreeSet<String> = replies
            .iter()
            .map(|r| {
                r.assert_status(201);
                r.json["message_id"].as_str().expect("id").to_string()
            })
            .collect();
        assert_eq!(ids.len(), 1, "every answer names the one message: {ids:?}");
        assert_eq!(replies.iter().filter(|r| replayed(r).is_none()).count(), 1, "one request stored it");
        assert_eq!(message_count(&server, &user).await, 1);
    }
}

/// Two `beacon web` processes on one PostgreSQL database receive the same
/// keyed request at the same moment: one message per key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_web_processes_store_a_keyed_message_once() {
    let server = TestServer::start(Db::Postgres).await;
    let user = server.user().await;
    let endpoint = server.endpoint(&user, "replicas").await;
    let other = second_web_process(&server).await;
    let client = reqwest::Client::new();
    let post = |base: String, key: String| {
        let client = client.clone();
        let (id, secret) = (endpoint.id.clone(), endpoint.key.clone());
        async move {
            let reply = client
                .post(format!("{base}/api/ingest/{id}"))
                .header("X-Beacon-Ingest-Key", secret)
                .header("Idempotency-Key", key)
                .json(&json!({"body": "replicated"}))
                .send()
                .await
                .expect("ingest");
            assert_eq!(reply.status().as_u16(), 201);
            let answer: Value = reply.json().await.expect("json");
            answer["message_id"].as_str().expect("id").to_string()
        }
    };
    const KEYS: usize = 10;
    for i in 0..KEYS {
        let key = format!("replica-{i}");
        let (a, b) = tokio::join!(
            post(server.url(""), key.clone()),
            post(other.base.clone(), key)
        );
        assert_eq!(a, b, "key {i}: both processes answer the same message");
    }
    assert_eq!(
        server.message_ids(&user, "").await.len(),
        KEYS,
        "one message per key"
    );
}
