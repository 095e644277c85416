//! `/api/ingest-endpoints`: create (key shown once), list, revoke, archive, tenant isolation.

use serde_json::json;

use crate::common::TestServer;
use crate::on_both_databases;

on_both_databases! {
    async fn create_list_and_get(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let reply = server.post("/api/ingest-endpoints", Some(&user.token), json!({"name": "  CI pipeline "})).await;
        reply.assert_status(201);
        let id = reply.json["endpoint"]["id"].as_str().expect("id").to_string();
        assert_eq!(id.len(), 32);
        assert_eq!(reply.json["endpoint"]["name"], "CI pipeline");
        assert!(reply.json["endpoint"]["revoked_at"].is_null());
        assert!(reply.json["endpoint"]["last_used_at"].is_null());
        let key = reply.json["ingest_key"].as_str().expect("key");
        assert!(key.starts_with("bsk_") && key.len() >= 40, "{key}");
        assert_eq!(reply.json["ingest_url"], format!("{}/api/ingest/{id}", server.base));

        let list = server.get("/api/ingest-endpoints", Some(&user.token)).await;
        list.assert_status(200);
        let items = list.json["items"].as_array().expect("items");
        assert_eq!(items.len(), 1);
        // The key is never shown again.
        assert!(!list.text.contains(key));

        let one = server.get(&format!("/api/ingest-endpoints/{id}"), Some(&user.token)).await;
        one.assert_status(200);
        assert_eq!(one.json["id"], id.as_str());
        let dashed = format!("{}-{}-{}-{}-{}", &id[..8], &id[8..12], &id[12..16], &id[16..20], &id[20..]);
        server.get(&format!("/api/ingest-endpoints/{dashed}"), Some(&user.token)).await.assert_status(200);

        server.post("/api/ingest-endpoints", Some(&user.token), json!({"name": ""})).await
            .assert_error(422, "validation_failed", Some("name"));
        server.post("/api/ingest-endpoints", Some(&user.token), json!({})).await
            .assert_error(422, "validation_failed", Some("name"));
        server.post("/api/ingest-endpoints", Some(&user.token), json!({"name": "x".repeat(101)})).await
            .assert_error(422, "validation_failed", Some("name"));
        server.post("/api/ingest-endpoints", None, json!({"name": "x"})).await.assert_error(401, "missing_token", None);
        server.get("/api/ingest-endpoints/0192f0c1a2b37c4d8e9fa0b1c2d3e4f5", Some(&user.token)).await
            .assert_error(404, "not_found", None);
        server.get("/api/ingest-endpoints/garbage", Some(&user.token)).await.assert_error(404, "not_found", None);
    }

    async fn revoke_and_archive(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let kept = server.endpoint(&user, "kept").await;
        let revoked = server.endpoint(&user, "revoked").await;
        let archived = server.endpoint(&user, "archived").await;
        server.ingest_ok(&revoked, json!({"body": "before revoke"})).await;

        let reply = server.post(&format!("/api/ingest-endpoints/{}/revoke", revoked.id), Some(&user.token), json!({})).await;
        reply.assert_status(200);
        assert!(reply.json["revoked_at"].is_string());
        assert!(reply.json["archived_at"].is_null());
        assert!(reply.json["last_used_at"].is_string());
        server.ingest(&revoked, json!({"body": "after revoke"})).await.assert_error(401, "invalid_ingest_credentials", None);

        let reply = server.post(&format!("/api/ingest-endpoints/{}/archive", archived.id), Some(&user.token), json!({})).await;
        reply.assert_status(200);
        assert!(reply.json["archived_at"].is_string());
        assert!(reply.json["revoked_at"].is_string());
        server.ingest(&archived, json!({"body": "x"})).await.assert_error(401, "invalid_ingest_credentials", None);

        let names = |reply: &crate::common::Reply| -> Vec<String> {
            reply.json["items"].as_array().expect("items").iter().map(|e| e["name"].as_str().expect("name").to_string()).collect()
        };
        let default_list = server.get("/api/ingest-endpoints", Some(&user.token)).await;
        assert_eq!(names(&default_list), vec!["revoked", "kept"]);
        let full = server.get("/api/ingest-endpoints?include_archived=true", Some(&user.token)).await;
        assert_eq!(names(&full), vec!["archived", "revoked", "kept"]);
        server.get("/api/ingest-endpoints?include_archived=maybe", Some(&user.token)).await
            .assert_error(422, "validation_failed", Some("include_archived"));

        // Messages of a revoked endpoint stay readable.
        assert_eq!(server.message_ids(&user, "").await.len(), 1);
        server.ingest_ok(&kept, json!({"body": "still fine"})).await;
    }

    async fn other_users_endpoints_are_404(db: Db) {
        let server = TestServer::start(db).await;
        let alice = server.user().await;
        let bob = server.user().await;
        let endpoint = server.endpoint(&alice, "alice's").await;
        server.get(&format!("/api/ingest-endpoints/{}", endpoint.id), Some(&bob.token)).await.assert_error(404, "not_found", None);
        server.post(&format!("/api/ingest-endpoints/{}/revoke", endpoint.id), Some(&bob.token), json!({})).await
            .assert_error(404, "not_found", None);
        server.post(&format!("/api/ingest-endpoints/{}/archive", endpoint.id), Some(&bob.token), json!({})).await
            .assert_error(404, "not_found", None);
        let list = server.get("/api/ingest-endpoints?include_archived=true", Some(&bob.token)).await;
        assert_eq!(list.json["items"].as_array().map(Vec::len), Some(0));
        // Still working for its owner.
        server.ingest_ok(&endpoint, json!({"body": "ok"})).await;
    }
}

on_both_databases! {
    /// Management bodies: a NUL in a name is refused naming the field, and a body
    /// over the API limit is 413 (not a read error).
    async fn api_bodies_with_nul_or_oversize_are_refused(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        server.post("/api/ingest-endpoints", Some(&user.token), json!({"name": "nas\u{0}"})).await
            .assert_error(422, "validation_failed", Some("name"));
        let huge = "x".repeat(300 * 1024);
        server.post("/api/ingest-endpoints", Some(&user.token), json!({"name": huge})).await
            .assert_error(413, "payload_too_large", None);
        let list = server.get("/api/ingest-endpoints", Some(&user.token)).await;
        assert_eq!(list.json["items"].as_array().map(Vec::len), Some(0), "{}", list.text);
    }
}
