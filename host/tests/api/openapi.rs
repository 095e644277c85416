//! The OpenAPI document and the operations endpoints.

use crate::common::{Db, TestServer};

/// Every route of SPEC §4, §5, §10 and §11 that exists so far. A route added
/// to the server without documentation, or documented without existing, fails.
const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/auth/signup"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/refresh"),
    ("post", "/api/auth/logout"),
    ("get", "/api/auth/me"),
    ("post", "/api/auth/resend-verification"),
    ("post", "/api/auth/verify-email"),
    ("post", "/api/auth/forgot-password"),
    ("post", "/api/auth/reset-password"),
    ("post", "/api/auth/change-email"),
    ("post", "/api/auth/change-password"),
    ("post", "/api/auth/delete-account"),
    ("get", "/api/ingest-endpoints"),
    ("post", "/api/ingest-endpoints"),
    ("get", "/api/ingest-endpoints/{id}"),
    ("post", "/api/ingest-endpoints/{id}/revoke"),
    ("post", "/api/ingest-endpoints/{id}/archive"),
    ("put", "/api/ingest-endpoints/{id}/adapter"),
    ("delete", "/api/ingest-endpoints/{id}/adapter"),
    ("post", "/api/ingest-endpoints/{id}/adapter/test"),
    ("post", "/api/ingest/{endpoint_id}"),
    ("get", "/api/messages"),
    ("get", "/api/messages/{id}"),
    ("delete", "/api/messages/{id}"),
    ("post", "/api/messages/batch-delete"),
    ("get", "/api/plugins"),
    ("post", "/api/plugins"),
    ("get", "/api/plugins/{id}"),
    ("post", "/compat/ntfy"),
    ("put", "/compat/ntfy/{endpoint_id}"),
    ("post", "/compat/ntfy/{endpoint_id}"),
    ("post", "/compat/gotify/message"),
    ("get", "/compat/gotify/version"),
    ("get", "/compat/gotify/health"),
    ("post", "/compat/bark/push"),
    ("get", "/compat/bark/{key}"),
    ("post", "/compat/bark/{key}"),
    ("get", "/compat/bark/{key}/{body}"),
    ("post", "/compat/bark/{key}/{body}"),
    ("get", "/compat/bark/{key}/{title}/{body}"),
    ("post", "/compat/bark/{key}/{title}/{body}"),
    ("get", "/compat/bark/{key}/{title}/{subtitle}/{body}"),
    ("post", "/compat/bark/{key}/{title}/{subtitle}/{body}"),
    ("delete", "/api/plugins/{id}"),
    ("put", "/api/plugins/{id}/grants"),
    ("delete", "/api/plugins/{id}/versions/{version}"),
    ("get", "/api/channels"),
    ("post", "/api/channels"),
    ("get", "/api/channels/{id}"),
    ("patch", "/api/channels/{id}"),
    ("delete", "/api/channels/{id}"),
    ("post", "/api/channels/{id}/test"),
    ("get", "/api/rules"),
    ("post", "/api/rules"),
    ("get", "/api/rules/{id}"),
    ("put", "/api/rules/{id}"),
    ("delete", "/api/rules/{id}"),
    ("post", "/api/rules/test"),
    ("post", "/api/rules/{id}/test"),
    ("post", "/api/deliveries/{id}/retry"),
    ("get", "/api/deliveries"),
    ("get", "/api/events"),
    ("get", "/api/stats/activity"),
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/readyz"),
];

#[tokio::test]
async fn openapi_documents_every_route() {
    let server = TestServer::start(Db::Sqlite).await;
    let reply = server.get("/api/openapi.json", None).await;
    reply.assert_status(200);
    let doc = &reply.json;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    let mut documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flat_map(|ops| ops.keys())
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    documented.sort();
    let mut expected: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    expected.sort();
    assert_eq!(documented, expected);

    // Each documented route is really served (a missing one would answer 404 not_found from the fallback).
    for (method, path) in ROUTES {
        let concrete = path
            .replace("{id}", "0192f0c1a2b37c4d8e9fa0b1c2d3e4f5")
            .replace("{endpoint_id}", "0192f0c1a2b37c4d8e9fa0b1c2d3e4f5")
            .replace("{version}", "1.0.0");
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let reply = server.send(server.request(method, &concrete, None)).await;
        let is_fallback = reply.status == 404 && path.matches('{').count() == 0;
        assert!(!is_fallback, "{path} is documented but not routed");
        assert_ne!(
            reply.status, 405,
            "{path} does not accept its documented method"
        );
    }
    // The error shape is a documented schema.
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness() {
    for db in [Db::Sqlite, Db::Postgres] {
        // Without any delivery worker the service is alive but not ready.
        let web_only = TestServer::start_with(db, &[(crate::common::WEB_ONLY, "1")]).await;
        web_only.get("/healthz", None).await.assert_status(200);
        let not_ready = web_only.get("/readyz", None).await;
        not_ready.assert_status(503);
        assert_eq!(not_ready.json["worker"], "no recent heartbeat");

        let server = TestServer::start(db).await;
        let health = server.get("/healthz", None).await;
        health.assert_status(200);
        assert_eq!(health.json["status"], "ok");
        // Ready once the worker's first heartbeat is in.
        let started = std::time::Instant::now();
        let ready = loop {
            let ready = server.get("/readyz", None).await;
            if ready.status == 200 || started.elapsed() > std::time::Duration::from_secs(10) {
                break ready;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        ready.assert_status(200);
        assert_eq!(ready.json["database"], "ok");
        assert_eq!(ready.json["worker"], "ok");
        assert_eq!(ready.json["migrations"], "ok");
        let worker = &ready.json["workers"][0];
        assert!(
            worker["id"].is_string()
                && worker["heartbeat_age_ms"]
                    .as_i64()
                    .is_some_and(|ms| ms < 30_000),
            "{}",
            ready.text
        );
        assert_eq!(worker["consecutive_failures"], 0);
        assert!(
            ready.json["queue"]["due"].is_i64()
                && ready.json["queue"]["oldest_due_age_ms"].is_i64(),
            "{}",
            ready.text
        );

        // A worker that reports but keeps failing its database rounds is not
        // enough: the body says which check failed.
        web_only
            .execute_for_user(
                &format!(
                    "INSERT INTO worker_heartbeats (worker_id, last_seen_at, last_round_at, consecutive_failures)
                     VALUES ($1, {}, NULL, 5)",
                    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
                ),
                "failing-worker",
            )
            .await;
        let failing = web_only.get("/readyz", None).await;
        failing.assert_status(503);
        assert_eq!(
            failing.json["worker"], "database rounds failing",
            "{}",
            failing.text
        );
        assert_eq!(failing.json["workers"][0]["consecutive_failures"], 5);
        server.state.store.close().await;
        let down = server.get("/readyz", None).await;
        down.assert_status(503);
        assert_eq!(down.json["status"], "unavailable");
    }
}
