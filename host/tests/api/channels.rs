//! `/api/channels`: plugin-validated config, encryption at rest, masked
//! secrets, tenant isolation, and test sends through the outbound policy.

use serde_json::json;

use crate::common::bark::BarkReceiver;
use crate::common::{Db, TestServer};
use crate::on_both_databases;

on_both_databases! {
    async fn crud_with_masked_encrypted_secrets(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let config = json!({"server_base_url": "https://api.day.app", "device_key": "SECRET-DEVICE-KEY"});
        let reply = server.post("/api/channels", Some(&user.token), json!({"name": "My iPhone", "plugin": "bark", "config": config})).await;
        reply.assert_status(201);
        let id = reply.json["id"].as_str().expect("id").to_string();
        assert_eq!(reply.json["plugin"], "bark");
        assert_eq!(reply.json["enabled"], true);
        assert_eq!(reply.json["config"]["device_key"], "********");
        assert_eq!(reply.json["config"]["server_base_url"], "https://api.day.app");
        assert!(!reply.text.contains("SECRET-DEVICE-KEY"));

        // Encrypted at rest: the stored row does not contain the key.
        let row = server.state.store.channel_by_id(&id).await.expect("row").expect("exists");
        assert!(!row.sealed_config.contains("SECRET-DEVICE-KEY") && !row.sealed_config.contains("api.day.app"), "{}", row.sealed_config);
        assert_eq!(server.state.cipher.open(&row).expect("decrypt")["device_key"], "SECRET-DEVICE-KEY");

        let list = server.get("/api/channels", Some(&user.token)).await;
        assert_eq!(list.json["items"].as_array().map(Vec::len), Some(1));
        assert!(!list.text.contains("SECRET-DEVICE-KEY"));

        // Update: the mask keeps the stored secret; other fields change.
        let reply = server.send(server.request(reqwest::Method::PATCH, &format!("/api/channels/{id}"), Some(&user.token))
            .json(&json!({"name": "Phone", "enabled": false, "config": {"server_base_url": "https://bark.example.com", "device_key": "********"}}))).await;
        reply.assert_status(200);
        assert_eq!(reply.json["name"], "Phone");
        assert_eq!(reply.json["enabled"], false);
        let row = server.state.store.channel_by_id(&id).await.expect("row").expect("exists");
        let stored = server.state.cipher.open(&row).expect("decrypt");
        assert_eq!(stored, json!({"server_base_url": "https://bark.example.com", "device_key": "SECRET-DEVICE-KEY"}));

        server.delete(&format!("/api/channels/{id}"), Some(&user.token)).await.assert_status(204);
        server.get(&format!("/api/channels/{id}"), Some(&user.token)).await.assert_error(404, "not_found", None);
    }

    async fn invalid_configs_name_the_field(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let create = |body: serde_json::Value| {
            let server = &server;
            let token = user.token.clone();
            async move { server.post("/api/channels", Some(&token), body).await }
        };
        create(json!({"name": "x", "plugin": "nope", "config": {}})).await.assert_error(422, "validation_failed", Some("plugin"));
        create(json!({"name": "x", "plugin": "standard-filter", "config": {}})).await.assert_error(422, "validation_failed", Some("plugin"));
        create(json!({"name": "x", "plugin": "bark", "config": []})).await.assert_error(422, "validation_failed", Some("config"));
        create(json!({"name": "", "plugin": "bark", "config": {}})).await.assert_error(422, "validation_failed", Some("name"));
        let reply = create(json!({"name": "x", "plugin": "bark", "config": {"server_base_url": "ftp://x", "device_key": "k"}})).await;
        reply.assert_error(422, "validation_failed", Some("config.server_base_url"));
        let reply = create(json!({"name": "x", "plugin": "bark", "config": {"server_base_url": "https://api.day.app"}})).await;
        assert_eq!(reply.status, 422, "{}", reply.text);
        assert!(reply.json["error"]["field"].as_str().is_some_and(|f| f.starts_with("config")), "{}", reply.text);

        let unverified = server.unverified_user().await;
        server.post("/api/channels", Some(&unverified.token), json!({"name": "x", "plugin": "bark", "config": {}})).await
            .assert_error(403, "email_not_verified", None);
    }

    async fn other_users_channels_are_404(db: Db) {
        let server = TestServer::start(db).await;
        let alice = server.user().await;
        let bob = server.user().await;
        let reply = server.post("/api/channels", Some(&alice.token),
            json!({"name": "a", "plugin": "bark", "config": {"server_base_url": "https://api.day.app", "device_key": "k"}})).await;
        let id = reply.json["id"].as_str().expect("id").to_string();
        server.get(&format!("/api/channels/{id}"), Some(&bob.token)).await.assert_error(404, "not_found", None);
        server.send(server.request(reqwest::Method::PATCH, &format!("/api/channels/{id}"), Some(&bob.token)).json(&json!({"name": "mine"}))).await
            .assert_error(404, "not_found", None);
        server.delete(&format!("/api/channels/{id}"), Some(&bob.token)).await.assert_error(404, "not_found", None);
        server.post(&format!("/api/channels/{id}/test"), Some(&bob.token), json!({})).await.assert_error(404, "not_found", None);
        assert_eq!(server.get("/api/channels", Some(&bob.token)).await.json["items"].as_array().map(Vec::len), Some(0));
        server.get(&format!("/api/channels/{id}"), Some(&alice.token)).await.assert_status(200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_send_reaches_an_allowlisted_receiver_only() {
    let receiver = BarkReceiver::start(vec![]).await;
    for (allowlist, expect_ok) in [("127.0.0.1/32", true), ("", false)] {
        let server =
            TestServer::start_with(Db::Sqlite, &[("BEACON_OUTBOUND_ALLOWLIST", allowlist)]).await;
        let user = server.user().await;
        let reply = server.post("/api/channels", Some(&user.token),
            json!({"name": "lan bark", "plugin": "bark", "config": {"server_base_url": receiver.base_url, "device_key": "dev-1"}})).await;
        reply.assert_status(201);
        let id = reply.json["id"].as_str().expect("id");
        let test = server
            .post(
                &format!("/api/channels/{id}/test"),
                Some(&user.token),
                json!({}),
            )
            .await;
        test.assert_status(200);
        assert_eq!(
            test.json["ok"], expect_ok,
            "allowlist {allowlist:?}: {}",
            test.text
        );
        if expect_ok {
            assert_eq!(test.json["http_status"], 200);
            let pushed = receiver.received();
            assert_eq!(pushed.len(), 1);
            assert_eq!(pushed[0]["device_key"], "dev-1");
            assert!(
                pushed[0]["body"]
                    .as_str()
                    .is_some_and(|b| b.contains("lan bark")),
                "{}",
                pushed[0]
            );
        } else {
            let error = test.json["error"].as_str().expect("error");
            assert!(error.contains("loopback"), "the refusal says why: {error}");
            assert_eq!(
                receiver.received().len(),
                1,
                "nothing more reached the receiver"
            );
        }
    }
}
