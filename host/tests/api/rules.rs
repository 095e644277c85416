//! `/api/rules`: validation by the filter plugins, the test endpoints, and
//! matching at ingest (deliveries queued with the message; failing filters
//! recorded, never failing the ingest).

use serde_json::{json, Value};

use crate::common::fixtures::{hostile, test_plugin};
use crate::common::{TestServer, TestUser};
use crate::on_both_databases;

async fn bark_channel(server: &TestServer, user: &TestUser) -> String {
    let reply = server.post("/api/channels", Some(&user.token),
        json!({"name": "phone", "plugin": "bark", "config": {"server_base_url": "https://api.day.app", "device_key": "k"}})).await;
    reply.assert_status(201);
    reply.json["id"].as_str().expect("id").to_string()
}

async fn rule(server: &TestServer, user: &TestUser, body: Value) -> String {
    let reply = server.post("/api/rules", Some(&user.token), body).await;
    reply.assert_status(201);
    reply.json["id"].as_str().expect("id").to_string()
}

on_both_databases! {
    async fn crud_and_validation(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let channel = bark_channel(&server, &user).await;
        let body = json!({"name": "urgent", "channel_id": channel, "filter": {"priority": {"min": 4}},
                          "payload_template": {"title": "[{{ingest_endpoint.name}}] {{message.title}}"}});
        let reply = server.post("/api/rules", Some(&user.token), body.clone()).await;
        reply.assert_status(201);
        let id = reply.json["id"].as_str().expect("id").to_string();
        assert_eq!(reply.json["enabled"], true);
        assert_eq!(reply.json["filter"], json!({"priority": {"min": 4}}));
        assert_eq!(reply.json["extra_filters"], json!([]));

        for (body, field) in [
            (json!({"name": "", "channel_id": channel}), "name"),
            (json!({"name": "x", "channel_id": "0192f0c1a2b37c4d8e9fa0b1c2d3e4f5"}), "channel_id"),
            (json!({"name": "x", "channel_id": channel, "filter": {"priority": {"min": "high"}}}), "filter.priority.min"),
            (json!({"name": "x", "channel_id": channel, "filter": {"body": {"regex": "(unclosed"}}}), "filter.body.regex"),
            (json!({"name": "x", "channel_id": channel, "filter": {"colour": "red"}}), "filter.colour"),
            (json!({"name": "x", "channel_id": channel, "filter": []}), "filter"),
            (json!({"name": "x", "channel_id": channel, "extra_filters": [{"plugin": "nope", "config": {}}]}), "extra_filters[0].plugin"),
            (json!({"name": "x", "channel_id": channel, "extra_filters": [{"plugin": "bark", "config": {}}]}), "extra_filters[0].plugin"),
            (json!({"name": "x", "channel_id": channel, "payload_template": "text"}), "payload_template"),
        ] {
            let reply = server.post("/api/rules", Some(&user.token), body.clone()).await;
            assert_eq!(reply.status, 422, "{body}: {}", reply.text);
            let got = reply.json["error"]["field"].as_str().unwrap_or_default();
            assert!(got.starts_with(field), "{body}: expected field {field}, got {got}");
        }

        let mut changed = body.clone();
        changed["name"] = json!("renamed");
        changed["enabled"] = json!(false);
        let reply = server.send(server.request(reqwest::Method::PUT, &format!("/api/rules/{id}"), Some(&user.token)).json(&changed)).await;
        reply.assert_status(200);
        assert_eq!(reply.json["name"], "renamed");
        assert_eq!(reply.json["enabled"], false);
        assert_eq!(server.get("/api/rules", Some(&user.token)).await.json["items"].as_array().map(Vec::len), Some(1));

        // Tenant isolation: another user's rule and channel are not there.
        let bob = server.user().await;
        server.get(&format!("/api/rules/{id}"), Some(&bob.token)).await.assert_error(404, "not_found", None);
        server.delete(&format!("/api/rules/{id}"), Some(&bob.token)).await.assert_error(404, "not_found", None);
        server.post(&format!("/api/rules/{id}/test"), Some(&bob.token), json!({"message": {"body": "x"}})).await.assert_error(404, "not_found", None);
        server.post("/api/rules", Some(&bob.token), json!({"name": "steal", "channel_id": channel})).await
            .assert_error(422, "validation_failed", Some("channel_id"));

        server.delete(&format!("/api/rules/{id}"), Some(&user.token)).await.assert_status(204);
        server.get(&format!("/api/rules/{id}"), Some(&user.token)).await.assert_error(404, "not_found", None);
    }

    async fn test_endpoints_match_and_render_without_sending(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let channel = bark_channel(&server, &user).await;
        let endpoint = server.endpoint(&user, "nas").await;
        let urgent = rule(&server, &user, json!({"name": "urgent", "channel_id": channel, "filter": {"priority": {"min": 4}, "tags": ["disk"]},
            "payload_template": {"title": "[{{ingest_endpoint.name}}] {{ message.title }}", "body": "{{message.body}} ({{message.extras.host}})",
                                 "group": "{{message.group}}", "level": "timeSensitive"}})).await;
        let backups = rule(&server, &user, json!({"name": "backups", "channel_id": channel, "filter": {"group": "backup"}})).await;

        let sample = json!({"message": {"title": "Disk", "body": "95% full", "priority": 5, "tags": ["DISK"], "extras": {"host": "nas1"}},
                            "ingest_endpoint_id": endpoint.id});
        let reply = server.post("/api/rules/test", Some(&user.token), sample.clone()).await;
        reply.assert_status(200);
        let results = reply.json["results"].as_array().expect("results");
        let find = |id: &str| results.iter().find(|r| r["rule_id"] == id).expect("result").clone();
        let hit = find(&urgent);
        assert_eq!(hit["matched"], true);
        assert_eq!(hit["payload"], json!({"title": "[nas] Disk", "body": "95% full (nas1)", "group": "", "level": "timeSensitive"}));
        assert_eq!(find(&backups)["matched"], false);

        let one = server.post(&format!("/api/rules/{backups}/test"), Some(&user.token), json!({"message": {"body": "ok", "group": "backup"}})).await;
        assert_eq!(one.json["results"].as_array().map(Vec::len), Some(1));
        assert_eq!(one.json["results"][0]["matched"], true);

        // An unsaved draft is validated like a create and tested alone.
        let draft = server.post("/api/rules/test", Some(&user.token), json!({"message": {"body": "disk 95% full"},
            "rule": {"name": "draft", "channel_id": channel, "filter": {"body": {"regex": "\\d+% full"}}, "payload_template": {"body": "got {{message.body}}"}}})).await;
        draft.assert_status(200);
        assert_eq!(draft.json["results"].as_array().map(Vec::len), Some(1));
        assert_eq!(draft.json["results"][0]["name"], "draft");
        assert_eq!(draft.json["results"][0]["matched"], true);
        assert_eq!(draft.json["results"][0]["payload"], json!({"body": "got disk 95% full"}));
        let miss = server.post("/api/rules/test", Some(&user.token), json!({"message": {"body": "fine"},
            "rule": {"name": "draft", "channel_id": channel, "filter": {"body": {"contains": ["disk"]}}}})).await;
        assert_eq!(miss.json["results"][0]["matched"], false);
        server.post("/api/rules/test", Some(&user.token), json!({"message": {"body": "x"},
            "rule": {"name": "draft", "channel_id": channel, "filter": {"body": {"regex": "("}}}})).await
            .assert_error(422, "validation_failed", Some("rule.filter.body.regex"));
        let bob = server.user().await;
        server.post("/api/rules/test", Some(&bob.token), json!({"message": {"body": "x"}, "rule": {"name": "d", "channel_id": channel}})).await
            .assert_error(422, "validation_failed", Some("rule.channel_id"));
        server.post("/api/rules/test", Some(&user.token), json!({"message": {"title": "no body"}})).await
            .assert_error(422, "validation_failed", Some("message.body"));
        server.post("/api/rules/test", Some(&user.token), json!({"message": {"body": "x"}, "ingest_endpoint_id": "0192f0c1a2b37c4d8e9fa0b1c2d3e4f5"})).await
            .assert_error(422, "validation_failed", Some("ingest_endpoint_id"));
        // Nothing was queued by testing.
        let summary = server.state.store.delivery_summaries(&[]).await.expect("summary");
        assert!(summary.is_empty());
    }

    async fn ingest_queues_one_delivery_per_matching_rule(db: Db) {
        let server = TestServer::start(db).await;
        let user = server.user().await;
        let channel = bark_channel(&server, &user).await;
        let endpoint = server.endpoint(&user, "e").await;
        rule(&server, &user, json!({"name": "all", "channel_id": channel})).await;
        rule(&server, &user, json!({"name": "urgent", "channel_id": channel, "filter": {"priority": {"min": 5}}})).await;
        rule(&server, &user, json!({"name": "off", "enabled": false, "channel_id": channel})).await;

        let urgent = server.ingest_ok(&endpoint, json!({"body": "fire", "priority": 5})).await;
        let calm = server.ingest_ok(&endpoint, json!({"body": "fine", "priority": 1})).await;
        let list = server.get("/api/messages", Some(&user.token)).await;
        let totals: Vec<(String, i64)> = list.json["items"].as_array().expect("items").iter()
            .map(|m| (m["id"].as_str().expect("id").to_string(), m["deliveries"]["total"].as_i64().expect("total"))).collect();
        assert!(totals.contains(&(urgent.clone(), 2)), "{totals:?}");
        assert!(totals.contains(&(calm.clone(), 1)), "{totals:?}");

        // Disabling the channel stops matching at once.
        server.send(server.request(reqwest::Method::PATCH, &format!("/api/channels/{channel}"), Some(&user.token)).json(&json!({"enabled": false}))).await.assert_status(200);
        let quiet = server.ingest_ok(&endpoint, json!({"body": "ignored", "priority": 5})).await;
        let list = server.get("/api/messages?limit=1", Some(&user.token)).await;
        assert_eq!(list.json["items"][0]["id"], quiet.as_str());
        assert_eq!(list.json["items"][0]["deliveries"]["total"], 0);
    }

    async fn failing_filters_are_recorded_and_ingest_succeeds(db: Db) {
        let server = TestServer::start_with(db, &[("PLUGIN_FILTER_TIMEOUT_MS", "100")]).await;
        let bytes = std::fs::read(hostile("filter")).expect("fixture");
        server.state.plugins.install(&bytes).expect("install hostile filter");
        let user = server.user().await;
        let channel = bark_channel(&server, &user).await;
        let endpoint = server.endpoint(&user, "e").await;
        let looping = rule(&server, &user, json!({"name": "loops", "channel_id": channel,
            "extra_filters": [{"plugin": "hostile-filter", "config": {"mode": "loop"}}]})).await;
        let panicking = rule(&server, &user, json!({"name": "panics", "channel_id": channel,
            "extra_filters": [{"plugin": "hostile-filter", "config": {"mode": "panic"}}]})).await;
        let hoarding = rule(&server, &user, json!({"name": "eats memory", "channel_id": channel,
            "extra_filters": [{"plugin": "hostile-filter", "config": {"mode": "bomb"}}]})).await;
        rule(&server, &user, json!({"name": "healthy", "channel_id": channel,
            "extra_filters": [{"plugin": "hostile-filter", "config": {"mode": "match"}}]})).await;

        let started = std::time::Instant::now();
        let id = server.ingest_ok(&endpoint, json!({"body": "still accepted"})).await;
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "the loop was stopped at its deadline");
        let detail = server.get(&format!("/api/messages/{id}"), Some(&user.token)).await;
        let errors = detail.json["filter_errors"].as_array().expect("filter_errors");
        assert_eq!(errors.len(), 3, "{}", detail.text);
        let error_of = |rule_id: &str| errors.iter().find(|e| e["rule_id"] == rule_id).and_then(|e| e["error"].as_str()).unwrap_or_default().to_string();
        assert!(error_of(&looping).contains("ran out of time"), "{}", detail.text);
        assert!(error_of(&panicking).contains("trapped"), "{}", detail.text);
        assert!(error_of(&hoarding).contains("memory limit"), "{}", detail.text);
        let list = server.get("/api/messages?limit=1", Some(&user.token)).await;
        assert_eq!(list.json["items"][0]["deliveries"]["total"], 1, "only the healthy rule matched");
        // The server keeps serving.
        server.get("/healthz", None).await.assert_status(200);
        server.ingest_ok(&endpoint, json!({"body": "and again"})).await;
    }
}

on_both_databases! {
    /// Installing a new version of a plugin swaps it in at once for new
    /// calls while a call already running finishes on the old version.
    async fn upgrade_swaps_while_running_calls_finish_on_the_old_version(db: Db) {
        let server = TestServer::start_with(db, &[("PLUGIN_FILTER_TIMEOUT_MS", "10000")]).await;
        let v1 = std::fs::read(test_plugin("upgrade_v1.wasm")).expect("fixture v1");
        let v2 = std::fs::read(test_plugin("upgrade_v2.wasm")).expect("fixture v2");
        server.state.plugins.install(&v1).expect("install 1.0.0");
        // Compiled (and cached) ahead, so the install below is only the swap.
        server.state.plugins.runtime().load(&v2).expect("compile 2.0.0");
        let user = server.user().await;
        let channel = bark_channel(&server, &user).await;
        let endpoint = server.endpoint(&user, "e").await;
        rule(&server, &user, json!({"name": "upgradable", "channel_id": channel,
            "extra_filters": [{"plugin": "upgrade-filter", "config": {"spin_ms": 1500}}]})).await;

        // Version 1 (matches) is busy with this message when version 2 arrives.
        let request = reqwest::Client::new().post(server.url(&format!("/api/ingest/{}", endpoint.id)))
            .header("x-beacon-ingest-key", &endpoint.key)
            .json(&json!({"body": "during the upgrade"}));
        let in_flight = tokio::spawn(async move {
            let reply = request.send().await.expect("ingest");
            assert_eq!(reply.status().as_u16(), 201);
            reply.json::<Value>().await.expect("json")["message_id"].as_str().expect("id").to_string()
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let installed = server.state.plugins.install(&v2).expect("install 2.0.0");
        assert_eq!(installed.version, "2.0.0");
        assert!(!in_flight.is_finished(), "the upgrade waited for the running call");
        let plugins = server.get("/api/plugins", Some(&user.token)).await;
        let listed: Vec<&Value> = plugins.json["items"].as_array().expect("items").iter()
            .filter(|p| p["id"] == "upgrade-filter").collect();
        assert_eq!(listed.len(), 1, "{}", plugins.text);
        assert_eq!(listed[0]["version"], "2.0.0");

        let during = in_flight.await.expect("task");
        let after = server.ingest_ok(&endpoint, json!({"body": "after the upgrade"})).await;
        let deliveries = |id: String| {
            let server = &server;
            let token = user.token.clone();
            async move {
                let detail = server.get(&format!("/api/messages/{id}"), Some(&token)).await;
                detail.json["deliveries"].as_array().map(Vec::len).unwrap_or_default()
            }
        };
        assert_eq!(deliveries(during).await, 1, "the running call finished on 1.0.0 (matches)");
        assert_eq!(deliveries(after).await, 0, "new calls use 2.0.0 (no match)");
    }
}
