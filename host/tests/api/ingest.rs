//! `POST /api/ingest/{endpoint_id}`: every answer of SPEC §5.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::TestServer;
use crate::on_both_databases;

/// Sends a raw HTTP/1.1 request with a chunked body (no Content-Length) and
/// returns the status code, so the streaming size check is what refuses it.
async fn chunked_post(server: &TestServer, path: &str, key: &str, chunks: &[Vec<u8>]) -> u16 {
    let address = server.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: text/plain\r\nX-Beacon-Ingest-Key: {key}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    for chunk in chunks {
        // The server may answer 413 and close before the last chunk: ignore write errors.
        if stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await
            .is_err()
            || stream.write_all(chunk).await.is_err()
            || stream.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text}"))
}

on_both_databases! {
    async fn json_and_text_bodies_are_stored(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let endpoint = server.endpoint(&user, "home").await;
        // The URL shown at creation is the one to use.
        let reply = server.send(reqwest::Client::new().post(&endpoint.url).header("x-beacon-ingest-key", &endpoint.key).json(&json!({"body": "via url"}))).await;
        reply.assert_status(201);
        let id = server.ingest_ok(&endpoint, json!({
            "body": "Disk /dev/sda1 is 95% full", "title": "Disk", "group": "storage", "priority": 5,
            "tags": ["ops", "Disk"], "url": "https://grafana.example.com/d/1", "extras": {"host": "nas", "mount": "/"}
        })).await;
        assert_eq!(id.len(), 32);
        let detail = server.get(&format!("/api/messages/{id}"), Some(&user.token)).await;
        detail.assert_status(200);
        let m = &detail.json;
        assert_eq!(m["body"], "Disk /dev/sda1 is 95% full");
        assert_eq!(m["title"], "Disk");
        assert_eq!(m["group"], "storage");
        assert_eq!(m["priority"], 5);
        assert_eq!(m["tags"], json!(["ops", "Disk"]));
        assert_eq!(m["url"], "https://grafana.example.com/d/1");
        assert_eq!(m["extras"], json!({"host": "nas", "mount": "/"}));
        assert_eq!(m["endpoint"]["id"], endpoint.id.as_str());
        assert_eq!(m["request"]["content_type"], "application/json");

        // Defaults, the dashed id form, and a text/plain body.
        let dashed = format!("{}-{}-{}-{}-{}", &endpoint.id[..8], &endpoint.id[8..12], &endpoint.id[12..16], &endpoint.id[16..20], &endpoint.id[20..]);
        let reply = server.send(
            server.request(Method::POST, &format!("/api/ingest/{dashed}"), None)
                .header("x-beacon-ingest-key", &endpoint.key)
                .header("content-type", "text/plain; charset=utf-8")
                .body("backup finished"),
        ).await;
        reply.assert_status(201);
        let text_id = reply.json["message_id"].as_str().expect("id");
        let detail = server.get(&format!("/api/messages/{text_id}"), Some(&user.token)).await;
        assert_eq!(detail.json["body"], "backup finished");
        assert_eq!(detail.json["priority"], 3);
        assert_eq!(detail.json["tags"], json!([]));
        assert_eq!(detail.json["extras"], json!({}));
        assert!(detail.json["title"].is_null());

        let endpoint_view = server.get(&format!("/api/ingest-endpoints/{}", endpoint.id), Some(&user.token)).await;
        assert!(endpoint_view.json["last_used_at"].is_string());
    }

    async fn wrong_credentials_are_one_401(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let endpoint = server.endpoint(&user, "e").await;
        let wrong_key = crate::common::TestEndpoint { id: endpoint.id.clone(), key: "bsk_wrong".into(), url: String::new() };
        server.ingest(&wrong_key, json!({"body": "x"})).await.assert_error(401, "invalid_ingest_credentials", None);
        let unknown = crate::common::TestEndpoint { id: "0192f0c1a2b37c4d8e9fa0b1c2d3e4f5".into(), key: endpoint.key.clone(), url: String::new() };
        server.ingest(&unknown, json!({"body": "x"})).await.assert_error(401, "invalid_ingest_credentials", None);
        let malformed = crate::common::TestEndpoint { id: "not-a-uuid".into(), key: endpoint.key.clone(), url: String::new() };
        server.ingest(&malformed, json!({"body": "x"})).await.assert_error(401, "invalid_ingest_credentials", None);
        let reply = server.send(server.request(Method::POST, &format!("/api/ingest/{}", endpoint.id), None).json(&json!({"body": "x"}))).await;
        reply.assert_error(401, "invalid_ingest_credentials", None);
        assert!(server.message_ids(&user, "").await.is_empty());
    }

    async fn unverified_owner_is_403_unless_allowed(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let endpoint = server.endpoint(&user, "e").await;
        // Create the endpoint while verified, then check an unverified owner via a second server
        // on the same database with the requirement on and off.
        let unverified = server.unverified_user().await;
        let me = server.get("/api/auth/me", Some(&unverified.token)).await;
        let unverified_id = me.json["id"].as_str().expect("id").to_string();
        let hash = beacon_host::app::accounts::secrets::sha256_hex("bsk_unverified-key");
        let endpoint_id = beacon_host::domain::new_id();
        server.state.store.insert_endpoint(&endpoint_id, &unverified_id, "u", &hash).await.expect("endpoint");
        let theirs = crate::common::TestEndpoint { id: endpoint_id, key: "bsk_unverified-key".into(), url: String::new() };
        server.ingest(&theirs, json!({"body": "x"})).await.assert_error(403, "email_not_verified", None);
        server.ingest_ok(&endpoint, json!({"body": "verified owner"})).await;
    }

    async fn oversize_bodies_are_413_and_not_stored(db: Db) {
        let server = TestServer::start_with(db, &[("MAX_INGEST_BYTES", "1024")]).await;
        let user = server.user().await;
        let endpoint = server.endpoint(&user, "e").await;
        // Declared too large.
        let big = "x".repeat(2000);
        server.ingest(&endpoint, json!({"body": big})).await.assert_error(413, "payload_too_large", None);
        // Not declared: refused while streaming.
        let path = format!("/api/ingest/{}", endpoint.id);
        let status = chunked_post(&server, &path, &endpoint.key, &[vec![b'a'; 600], vec![b'b'; 600], vec![b'c'; 600]]).await;
        assert_eq!(status, 413);
        // Just under the limit, streamed, is fine.
        let status = chunked_post(&server, &path, &endpoint.key, &[vec![b'a'; 500], vec![b'b'; 500]]).await;
        assert_eq!(status, 201);
        let ids = server.message_ids(&user, "").await;
        assert_eq!(ids.len(), 1, "only the in-limit message is stored");
    }

    async fn content_types_and_malformed_bodies(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let endpoint = server.endpoint(&user, "e").await;
        let raw = |content_type: Option<&str>, body: Vec<u8>| {
            let mut builder = server.request(Method::POST, &format!("/api/ingest/{}", endpoint.id), None)
                .header("x-beacon-ingest-key", &endpoint.key)
                .body(body);
            if let Some(ct) = content_type {
                builder = builder.header("content-type", ct);
            }
            builder
        };
        server.send(raw(Some("application/x-www-form-urlencoded"), b"body=x".to_vec())).await
            .assert_error(415, "unsupported_media_type", None);
        server.send(raw(None, b"x".to_vec())).await.assert_error(415, "unsupported_media_type", None);
        server.send(raw(Some("application/json"), b"{\"body\": ".to_vec())).await.assert_error(400, "malformed_json", None);
        server.send(raw(Some("application/json"), vec![b'{', 0xff, b'}'])).await.assert_error(400, "invalid_utf8", None);
        server.send(raw(Some("text/plain"), vec![0xc3, 0x28])).await.assert_error(400, "invalid_utf8", None);
        server.send(raw(Some("text/plain"), b"   ".to_vec())).await.assert_error(422, "validation_failed", Some("body"));
        assert!(server.message_ids(&user, "").await.is_empty());
    }

    async fn validation_errors_name_the_field(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let endpoint = server.endpoint(&user, "e").await;
        for (body, field) in [
            (json!({}), "body"),
            (json!({"body": ""}), "body"),
            (json!({"body": 12}), "body"),
            (json!({"body": "x", "title": 1}), "title"),
            (json!({"body": "x", "group": []}), "group"),
            (json!({"body": "x", "priority": 0}), "priority"),
            (json!({"body": "x", "priority": 6}), "priority"),
            (json!({"body": "x", "priority": "5"}), "priority"),
            (json!({"body": "x", "tags": "ops"}), "tags"),
            (json!({"body": "x", "tags": ["ok", 1]}), "tags[1]"),
            (json!({"body": "x", "url": "not a url"}), "url"),
            (json!({"body": "x", "url": "javascript:alert(1)"}), "url"),
            (json!({"body": "x", "extras": {"a": 1}}), "extras.a"),
            (json!({"body": "x", "extras": ["a"]}), "extras"),
            (json!({"body": "x", "severity": "high"}), "severity"),
            (json!(["body"]), "$"),
        ] {
            server.ingest(&endpoint, body).await.assert_error(422, "validation_failed", Some(field));
        }
        assert!(server.message_ids(&user, "").await.is_empty());
    }

    async fn per_endpoint_rate_limit(db: Db) {
        let server = TestServer::start_with(db, &[("INGEST_RATE_LIMIT_PER_MINUTE", "2")]).await;
        let user = server.user().await;
        let limited = server.endpoint(&user, "limited").await;
        let other = server.endpoint(&user, "other").await;
        server.ingest_ok(&limited, json!({"body": "1"})).await;
        server.ingest_ok(&limited, json!({"body": "2"})).await;
        let reply = server.ingest(&limited, json!({"body": "3"})).await;
        reply.assert_error(429, "rate_limited", None);
        let retry_after: u64 = reply.headers.get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).expect("Retry-After");
        assert!((1..=60).contains(&retry_after));
        // The limit is per endpoint.
        server.ingest_ok(&other, json!({"body": "other"})).await;
        assert_eq!(server.message_ids(&user, "").await.len(), 3);
    }

    async fn request_metadata_is_stored_redacted(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let endpoint = server.endpoint(&user, "e").await;
        let reply = server.send(
            server.request(Method::POST, &format!("/api/ingest/{}?source=cron&run=42", endpoint.id), None)
                .header("x-beacon-ingest-key", &endpoint.key)
                // Secrets with letters beyond hex, so no id can contain them by chance.
                .header("authorization", "Bearer zq-bearer-secret")
                .header("cookie", "session=zq-cookie-secret")
                .header("x-api-key", "zq-api-key")
                .header("x-github-token", "ghp_secret")
                .header("x-client-secret", "s3cret")
                .header("x-password-hint", "pw")
                .header("x-request-id", "req-7")
                .header("user-agent", "backup-script/1.0")
                .json(&json!({"body": "with headers"})),
        ).await;
        reply.assert_status(201);
        let id = reply.json["message_id"].as_str().expect("id");
        let detail = server.get(&format!("/api/messages/{id}"), Some(&user.token)).await;
        let request = &detail.json["request"];
        let headers = &request["headers"];
        for name in ["authorization", "cookie", "x-api-key", "x-github-token", "x-client-secret", "x-password-hint", "x-beacon-ingest-key"] {
            assert_eq!(headers[name], "[REDACTED]", "{name} must be redacted");
        }
        assert_eq!(headers["x-request-id"], "req-7");
        assert_eq!(request["user_agent"], "backup-script/1.0");
        assert_eq!(request["remote_ip"], "127.0.0.1");
        assert_eq!(request["query"], json!({"source": "cron", "run": "42"}));
        assert!(request["size_bytes"].as_i64().is_some_and(|n| n > 10));
        for secret in ["zq-bearer-secret", "zq-cookie-secret", "zq-api-key", "ghp_secret", "s3cret", &endpoint.key] {
            assert!(!detail.text.contains(secret), "{secret} leaked into the stored message");
        }
    }

    async fn concurrent_ingest_commits_every_message(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let endpoint = server.endpoint(&user, "burst").await;
        let mut tasks = tokio::task::JoinSet::new();
        let client = reqwest::Client::new();
        for i in 0..300 {
            let request = client.post(server.url(&format!("/api/ingest/{}", endpoint.id)))
                .header("x-beacon-ingest-key", &endpoint.key)
                .json(&json!({"body": format!("message {i}"), "tags": ["burst", format!("n{}", i % 7)]}));
            tasks.spawn(async move {
                let response = request.send().await.expect("send");
                assert_eq!(response.status().as_u16(), 201);
                let body: serde_json::Value = response.json().await.expect("json");
                body["message_id"].as_str().expect("id").to_string()
            });
        }
        let mut acknowledged: Vec<String> = tasks.join_all().await;
        acknowledged.sort();
        let mut stored = server.message_ids(&user, "").await;
        stored.sort();
        assert_eq!(stored, acknowledged, "every 201 is stored, nothing else");
        assert_eq!(server.message_ids(&user, "&tag=n3").await.len(), 300 / 7 + usize::from(300 % 7 > 3));
    }
}

on_both_databases! {
    async fn ingest_allowed_for_unverified_when_configured(db: Db) {
        let server = TestServer::start_with(
            db,
            &[("REQUIRE_VERIFIED_EMAIL_FOR_INGEST", "false")],
        )
        .await;
        let user = server.unverified_user().await;
        let me = server.get("/api/auth/me", Some(&user.token)).await;
        let hash = beacon_host::app::accounts::secrets::sha256_hex("bsk_k");
        let id = beacon_host::domain::new_id();
        server
            .state
            .store
            .insert_endpoint(&id, me.json["id"].as_str().expect("id"), "u", &hash)
            .await
            .expect("endpoint");
        let endpoint = crate::common::TestEndpoint {
            id,
            key: "bsk_k".into(),
            url: String::new(),
        };
        server
            .ingest_ok(&endpoint, json!({"body": "allowed"}))
            .await;
    }
}

on_both_databases! {
    async fn trusted_proxy_forwarded_for(db: Db) {
        for (trusted, expected) in [("127.0.0.1/32", "203.0.113.7"), ("10.0.0.0/8", "127.0.0.1")] {
            let server = TestServer::start_with(db, &[("TRUSTED_PROXIES", trusted)]).await;
            let user = server.user().await;
            let endpoint = server.endpoint(&user, "proxied").await;
            let reply = server
                .send(
                    server
                        .request(Method::POST, &format!("/api/ingest/{}", endpoint.id), None)
                        .header("x-beacon-ingest-key", &endpoint.key)
                        .header("x-forwarded-for", "203.0.113.7")
                        .json(&json!({"body": "via proxy"})),
                )
                .await;
            let id = reply.json["message_id"].as_str().expect("id");
            let detail = server
                .get(&format!("/api/messages/{id}"), Some(&user.token))
                .await;
            assert_eq!(
                detail.json["request"]["remote_ip"], expected,
                "TRUSTED_PROXIES={trusted}"
            );
        }
    }
}

on_both_databases! {
    async fn disabled_owner_is_403_everywhere(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let endpoint = server.endpoint(&user, "e").await;
        server.ingest_ok(&endpoint, json!({"body": "before"})).await;
        assert!(server.state.store.set_user_disabled(&user.email, true).await.expect("disable"));
        // The ingest cache may hold the endpoint for a few seconds in other processes;
        // this process forgets it when told to.
        server.state.app.ingest.forget_endpoint(&endpoint.id);
        server.ingest(&endpoint, json!({"body": "after"})).await.assert_error(403, "account_disabled", None);
        server.get("/api/auth/me", Some(&user.token)).await.assert_error(403, "account_disabled", None);
        server.login(&user.email, crate::common::PASSWORD).await.assert_error(403, "account_disabled", None);
        server.post_with_cookie("/api/auth/refresh", &user.refresh).await.assert_error(403, "account_disabled", None);

        assert!(server.state.store.set_user_disabled(&user.email, false).await.expect("enable"));
        server.state.app.ingest.forget_endpoint(&endpoint.id);
        server.ingest_ok(&endpoint, json!({"body": "again"})).await;
    }
}

on_both_databases! {
    /// U+0000 cannot be stored in PostgreSQL text (SQLite could): both refuse it
    /// in message fields with the field named, and replace it in metadata.
    async fn nul_characters_are_refused_or_replaced(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let endpoint = server.endpoint(&user, "nul").await;
        server.ingest(&endpoint, json!({"body": "a\u{0}b"})).await.assert_error(422, "validation_failed", Some("body"));
        server.ingest(&endpoint, json!({"body": "ok", "tags": ["fine", "bad\u{0}"]})).await
            .assert_error(422, "validation_failed", Some("tags[1]"));
        server.ingest(&endpoint, json!({"body": "ok", "extras": {"host": "x\u{0}"}})).await
            .assert_error(422, "validation_failed", Some("extras.host"));
        let text = server.send(server.request(Method::POST, &format!("/api/ingest/{}", endpoint.id), None)
            .header("x-beacon-ingest-key", &endpoint.key)
            .header("content-type", "text/plain")
            .body("disk\0full")).await;
        text.assert_error(422, "validation_failed", Some("body"));
        // An escaped backslash before "u0000" is ordinary text.
        let id = server.ingest_ok(&endpoint, json!({"body": "literally \\u0000"})).await;
        let reply = server.send(server.request(Method::POST, &format!("/api/ingest/{}?tag=a%00b", endpoint.id), None)
            .header("x-beacon-ingest-key", &endpoint.key)
            .json(&json!({"body": "query with a NUL"}))).await;
        reply.assert_status(201);
        let stored = reply.json["message_id"].as_str().expect("id");
        let detail = server.get(&format!("/api/messages/{stored}"), Some(&user.token)).await;
        assert_eq!(detail.json["request"]["query"]["tag"], "a\u{fffd}b", "{}", detail.text);
        let literal = server.get(&format!("/api/messages/{id}"), Some(&user.token)).await;
        assert_eq!(literal.json["body"], "literally \\u0000");
        // Nothing refused was stored.
        assert_eq!(server.message_ids(&user, "").await.len(), 2);
    }
}
