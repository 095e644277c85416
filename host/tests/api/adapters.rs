//! Ingest adapters: an endpoint chooses one (`PUT
//! /api/ingest-endpoints/{id}/adapter`), and `POST /api/ingest/{id}` runs it
//! on every request. Real payloads from the senders' documentation
//! (host/tests/fixtures/adapters) go through the built-in `alertmanager`,
//! `github` and `json-map` adapters; a hostile adapter that loops, eats
//! memory, panics or makes unusable messages answers 422 and stores nothing.

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::common::fixtures::hostile;
use crate::common::{Db, Reply, TestEndpoint, TestServer, TestUser};
use crate::on_both_databases;
use crate::operators::{operator, read, upload};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/adapters/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

async fn set_adapter(
    server: &TestServer,
    user: &TestUser,
    endpoint: &TestEndpoint,
    choice: Value,
) -> Reply {
    server
        .send(
            server
                .request(
                    Method::PUT,
                    &format!("/api/ingest-endpoints/{}/adapter", endpoint.id),
                    Some(&user.token),
                )
                .json(&choice),
        )
        .await
}

/// POSTs `body` to the endpoint with the key as a bearer token.
async fn post(
    server: &TestServer,
    endpoint: &TestEndpoint,
    body: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let mut request = server
        .request(Method::POST, &format!("/api/ingest/{}", endpoint.id), None)
        .header("Authorization", format!("Bearer {}", endpoint.key))
        .header("Content-Type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    server.send(request).await
}

async fn message(server: &TestServer, user: &TestUser, id: &str) -> Value {
    let reply = server
        .get(&format!("/api/messages/{id}"), Some(&user.token))
        .await;
    reply.assert_status(200);
    reply.json
}

fn ids(reply: &Reply) -> Vec<String> {
    reply.json["message_ids"]
        .as_array()
        .unwrap_or_else(|| panic!("message_ids in {}", reply.text))
        .iter()
        .map(|id| id.as_str().expect("id").to_string())
        .collect()
}

async fn setup(db: Db, env: &[(&str, &str)]) -> (TestServer, TestUser, TestEndpoint) {
    let server = TestServer::start_with(db, env).await;
    let user = server.user().await;
    let endpoint = server.endpoint(&user, "webhooks").await;
    (server, user, endpoint)
}

fn github_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("hmac key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

on_both_databases! {
    async fn alertmanager_alerts_become_one_message_each(db: Db) {
        let (server, user, endpoint) = setup(db, &[]).await;
        let chosen = set_adapter(&server, &user, &endpoint, json!({"plugin": "alertmanager"})).await;
        chosen.assert_status(200);
        assert_eq!(chosen.json["adapter"]["plugin"], "alertmanager", "{}", chosen.text);
        assert_eq!(chosen.json["adapter"]["plugin_version"], Value::Null);
        assert_eq!(chosen.json["adapter"]["running_version"], "0.1.0");
        let shown = server.get(&format!("/api/ingest-endpoints/{}", endpoint.id), Some(&user.token)).await;
        assert_eq!(shown.json["adapter"]["plugin"], "alertmanager");

        // What Alertmanager's webhook_config with http_config.authorization sends.
        let sent = post(&server, &endpoint, &fixture("alertmanager.json"), &[("User-Agent", "Alertmanager/0.28.1")]).await;
        sent.assert_status(201);
        let both = ids(&sent);
        assert_eq!(both.len(), 2, "{}", sent.text);
        assert_eq!(sent.json["message_id"], both[0].as_str());

        let firing = message(&server, &user, &both[0]).await;
        assert_eq!(firing["title"], "InstanceDown");
        assert_eq!(firing["body"], "Instance web-1:9100 down\nweb-1:9100 of job node has been down for more than 5 minutes.");
        assert_eq!(firing["priority"], 5);
        assert_eq!(firing["tags"], json!(["firing"]));
        assert_eq!(firing["group"], "{}:{job=\"node\"}");
        assert_eq!(firing["extras"]["instance"], "web-1:9100");
        assert_eq!(firing["extras"]["severity"], "critical");
        assert!(firing["url"].as_str().expect("url").starts_with("http://prometheus.example.org:9090/graph"));
        assert_eq!(firing["request"]["headers"]["authorization"], "[REDACTED]");
        let resolved = message(&server, &user, &both[1]).await;
        assert_eq!(resolved["title"], "DiskSpaceLow");
        assert_eq!(resolved["priority"], 4);
        assert_eq!(resolved["tags"], json!(["resolved"]));

        // A body the adapter does not read: 422 with its words, nothing stored.
        let before = server.message_ids(&user, "").await.len();
        let refused = post(&server, &endpoint, r#"{"body": "native"}"#, &[]).await;
        refused.assert_error(422, "adapter_refused", None);
        assert_eq!(server.message_ids(&user, "").await.len(), before);

        // Config: severity mapping and resolved alerts left out.
        let tuned = set_adapter(&server, &user, &endpoint, json!({
            "plugin": "alertmanager",
            "config": {"priorities": {"critical": 4}, "send_resolved": false}
        })).await;
        tuned.assert_status(200);
        let sent = post(&server, &endpoint, &fixture("alertmanager.json"), &[]).await;
        let only = ids(&sent);
        assert_eq!(only.len(), 1, "{}", sent.text);
        assert_eq!(message(&server, &user, &only[0]).await["priority"], 4);

        // Back to native bodies.
        let cleared = server.delete(&format!("/api/ingest-endpoints/{}/adapter", endpoint.id), Some(&user.token)).await;
        cleared.assert_status(200);
        assert_eq!(cleared.json["adapter"], Value::Null);
        let native = post(&server, &endpoint, r#"{"body": "native again"}"#, &[]).await;
        native.assert_status(201);
        assert!(native.json.get("message_ids").is_none(), "{}", native.text);
    }

    async fn github_deliveries_are_signed_and_readable(db: Db) {
        let (server, user, endpoint) = setup(db, &[]).await;
        let secret = "It's a Secret to Everybody";
        set_adapter(&server, &user, &endpoint, json!({"plugin": "github", "config": {"secret": secret}}))
            .await
            .assert_status(200);
        let shown = server.get(&format!("/api/ingest-endpoints/{}", endpoint.id), Some(&user.token)).await;
        assert_ne!(shown.json["adapter"]["config"]["secret"], secret, "the secret is masked: {}", shown.text);

        // GitHub can set no header of ours: the key rides in the query.
        let deliver = |event: &'static str, body: String, signature: Option<String>| {
            let mut request = server
                .request(Method::POST, &format!("/api/ingest/{}?key={}", endpoint.id, endpoint.key), None)
                .header("Content-Type", "application/json")
                .header("User-Agent", "GitHub-Hookshot/4f8a2b1")
                .header("X-GitHub-Event", event)
                .header("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
                .body(body);
            if let Some(signature) = signature {
                request = request.header("X-Hub-Signature-256", signature);
            }
            server.send(request)
        };
        let push = fixture("github-push.json");
        let before = server.message_ids(&user, "").await.len();
        deliver("push", push.clone(), None).await.assert_error(401, "adapter_unauthorized", None);
        deliver("push", push.clone(), Some(github_signature("wrong secret", push.as_bytes())))
            .await
            .assert_error(401, "adapter_unauthorized", None);
        assert_eq!(server.message_ids(&user, "").await.len(), before, "refused deliveries store nothing");

        let mut titles = Vec::new();
        for event in ["ping", "push", "pull_request", "issues", "release", "workflow_run", "check_run", "star"] {
            let body = fixture(&format!("github-{event}.json"));
            let signature = github_signature(secret, body.as_bytes());
            let sent = deliver(event, body, Some(signature)).await;
            sent.assert_status(201);
            let stored = message(&server, &user, sent.json["message_id"].as_str().expect("id")).await;
            assert_eq!(stored["extras"]["github_event"], event, "{stored}");
            assert_eq!(stored["extras"]["github_delivery"], "72d3162e-cc78-11e3-81ab-4c9367dc0958");
            assert!(stored["tags"].as_array().expect("tags").contains(&json!("github")));
            assert_eq!(stored["request"]["query"]["key"], "[REDACTED]", "{stored}");
            if event != "star" {
                let url = stored["url"].as_str().unwrap_or_else(|| panic!("{event} has a link: {stored}"));
                assert!(url.starts_with("https://github.com/"), "{event}: {url}");
            }
            titles.push(stored["title"].as_str().expect("title").to_string());
        }
        assert_eq!(titles[0], "GitHub webhook connected");
        assert!(titles[2].contains("merged"), "{titles:?}");
        assert!(titles[5].contains("failure"), "{titles:?}");
        assert!(titles[7].starts_with("GitHub: star"), "unknown events get a generic title: {titles:?}");

        // Saving the config back with the masked secret keeps the secret.
        let masked = shown.json["adapter"]["config"].clone();
        set_adapter(&server, &user, &endpoint, json!({"plugin": "github", "config": masked}))
            .await
            .assert_status(200);
        let body = fixture("github-ping.json");
        deliver("ping", body.clone(), Some(github_signature(secret, body.as_bytes())))
            .await
            .assert_status(201);
    }

    async fn json_map_reads_grafana_uptime_kuma_and_home_assistant(db: Db) {
        let (server, user, endpoint) = setup(db, &[]).await;
        let grafana = json!({
            "plugin": "json-map",
            "config": {
                "items": "/alerts",
                "title": "{{/labels/alertname}}",
                "body": "/annotations/summary",
                "priority": "/labels/severity",
                "priorities": {"critical": 5, "warning": 4},
                "tags": "/status",
                "click": "/generatorURL",
                "extras": {"instance": "/labels/instance"}
            }
        });
        // The test button: what a pasted sample becomes, nothing stored.
        let tested = server.post(
            &format!("/api/ingest-endpoints/{}/adapter/test", endpoint.id),
            Some(&user.token),
            json!({"adapter": grafana, "body": fixture("grafana.json")}),
        ).await;
        tested.assert_status(200);
        assert_eq!(tested.json["ok"], true, "{}", tested.text);
        let previewed = tested.json["messages"].as_array().expect("messages").clone();
        assert!(!previewed.is_empty(), "{}", tested.text);
        assert!(server.message_ids(&user, "").await.is_empty(), "a test stores nothing");
        // A sample the mapping cannot read says why, with the sender's status.
        let bad = server.post(
            &format!("/api/ingest-endpoints/{}/adapter/test", endpoint.id),
            Some(&user.token),
            json!({"adapter": grafana, "body": "not json"}),
        ).await;
        bad.assert_status(200);
        assert_eq!(bad.json["ok"], false);
        assert_eq!(bad.json["status"], 422);
        assert_eq!(bad.json["error"]["error"]["code"], "adapter_refused", "{}", bad.text);

        set_adapter(&server, &user, &endpoint, grafana).await.assert_status(200);
        let sent = post(&server, &endpoint, &fixture("grafana.json"), &[]).await;
        sent.assert_status(201);
        let stored = ids(&sent);
        assert_eq!(stored.len(), previewed.len());
        let first = message(&server, &user, &stored[0]).await;
        assert_eq!(first["title"], previewed[0]["title"]);
        assert_eq!(first["body"], previewed[0]["body"]);
        assert_eq!(first["priority"], previewed[0]["priority"]);
        assert!(first["title"].as_str().is_some_and(|t| !t.is_empty()), "{first}");

        // The saved setting is what the test button uses when given none.
        let own = server.post(
            &format!("/api/ingest-endpoints/{}/adapter/test", endpoint.id),
            Some(&user.token),
            json!({"body": fixture("grafana.json")}),
        ).await;
        assert_eq!(own.json["messages"], json!(previewed));

        let kuma = json!({"plugin": "json-map", "config": {
            "title": "{{/monitor/name}} is {{/heartbeat/status}}",
            "body": "/msg",
            "click": "/monitor/url",
            "priority": "/heartbeat/status",
            "priorities": {"0": 5, "1": 2}
        }});
        set_adapter(&server, &user, &endpoint, kuma).await.assert_status(200);
        let sent = post(&server, &endpoint, &fixture("uptime-kuma.json"), &[]).await;
        sent.assert_status(201);
        let down = message(&server, &user, sent.json["message_id"].as_str().expect("id")).await;
        assert_eq!(down["title"], "Nextcloud is 0");
        assert_eq!(down["body"], "[Nextcloud] [🔴 Down] Request failed with status code 503");
        assert_eq!(down["priority"], 5);
        assert_eq!(down["url"], "https://cloud.example.org/status.php");

        let home = json!({"plugin": "json-map", "config": {
            "title": "/title", "body": "/message", "tags": "/tags",
            "priority": "/priority", "priorities": {"high": 4}, "group": "Home Assistant"
        }});
        set_adapter(&server, &user, &endpoint, home).await.assert_status(200);
        let sent = post(&server, &endpoint, &fixture("home-assistant.json"), &[]).await;
        sent.assert_status(201);
        let garage = message(&server, &user, sent.json["message_id"].as_str().expect("id")).await;
        assert_eq!(garage["title"], "Garage door open");
        assert_eq!(garage["body"], "The garage door has been open for 10 minutes.");
        assert_eq!(garage["priority"], 4);
        assert_eq!(garage["tags"], json!(["garage", "door"]));
        assert_eq!(garage["group"], "Home Assistant");
    }

    async fn hostile_adapters_answer_422_and_store_nothing(db: Db) {
        let (server, user, endpoint) = setup(db, &[("PLUGIN_ADAPTER_TIMEOUT_MS", "300"), ("PLUGIN_MEMORY_LIMIT_MB", "16")]).await;
        let admin = operator(&server).await;
        upload(&server, Some(&admin.token), read(hostile("adapter"))).await.assert_status(201);
        let mode = |mode: &str| json!({"plugin": "hostile-adapter", "config": {"mode": mode}});
        for (name, status, code, needle) in [
            ("loop", 422, "adapter_failed", "ran out of time"),
            ("bomb", 422, "adapter_failed", "memory"),
            ("panic", 422, "adapter_failed", "trapped"),
            ("invalid", 422, "adapter_refused", "not what I read"),
            ("unauthorized", 401, "adapter_unauthorized", "bad signature"),
            ("many", 422, "too_many_messages", "1001"),
        ] {
            set_adapter(&server, &user, &endpoint, mode(name)).await.assert_status(200);
            let refused = post(&server, &endpoint, "{}", &[]).await;
            refused.assert_error(status, code, None);
            assert!(refused.text.contains(needle), "{name}: {}", refused.text);
        }
        set_adapter(&server, &user, &endpoint, mode("bad-message")).await.assert_status(200);
        post(&server, &endpoint, "{}", &[]).await.assert_error(422, "validation_failed", Some("messages[2].priority"));
        assert!(server.message_ids(&user, "").await.is_empty(), "no refused request stored anything");

        // What reaches the plugin: the request without its credentials.
        set_adapter(&server, &user, &endpoint, mode("echo")).await.assert_status(200);
        let request = server
            .request(Method::POST, &format!("/api/ingest/{}?key={}&region=eu", endpoint.id, endpoint.key), None)
            .header("X-Beacon-Ingest-Key", &endpoint.key)
            .header("Authorization", format!("Bearer {}", endpoint.key))
            .header("X-Event", "ping")
            .body("raw text");
        let seen = server.send(request).await;
        seen.assert_status(201);
        let mut bodies = Vec::new();
        for id in ids(&seen) {
            bodies.push(message(&server, &user, &id).await["body"].as_str().expect("body").to_string());
        }
        assert_eq!(bodies[0], "raw text");
        assert!(bodies.contains(&"x-event=ping".to_string()), "{bodies:?}");
        assert!(bodies.contains(&"region=eu".to_string()), "{bodies:?}");
        assert!(bodies.iter().all(|b| !b.contains(&endpoint.key)), "the key never reaches the adapter: {bodies:?}");
        let first = message(&server, &user, &ids(&seen)[0]).await;
        assert_eq!(first["title"], "POST webhooks");
        assert_eq!(first["extras"]["endpoint_id"], endpoint.id.as_str());

        // Removing the adapter an endpoint uses is refused; forced, the
        // endpoint answers adapter_unavailable instead of losing requests silently.
        let removal = server.delete("/api/plugins/hostile-adapter", Some(&admin.token)).await;
        removal.assert_error(409, "plugin_in_use", None);
        assert!(removal.text.contains("endpoint"), "{}", removal.text);
        server.delete("/api/plugins/hostile-adapter?force=true", Some(&admin.token)).await.assert_status(204);
        post(&server, &endpoint, "{}", &[]).await.assert_error(422, "adapter_unavailable", None);
    }

    async fn adapter_choices_are_checked_and_owned(db: Db) {
        let (server, user, endpoint) = setup(db, &[]).await;
        set_adapter(&server, &user, &endpoint, json!({"plugin": "no-such"})).await
            .assert_error(422, "validation_failed", Some("plugin"));
        set_adapter(&server, &user, &endpoint, json!({"plugin": "bark"})).await
            .assert_error(422, "validation_failed", Some("plugin"));
        set_adapter(&server, &user, &endpoint, json!({"plugin": "alertmanager", "plugin_version": "9.9.9"})).await
            .assert_error(422, "unknown_plugin_version", Some("plugin_version"));
        set_adapter(&server, &user, &endpoint, json!({"plugin": "alertmanager", "config": {"priorities": {"critical": 9}}})).await
            .assert_error(422, "validation_failed", Some("config.priorities.critical"));
        set_adapter(&server, &user, &endpoint, json!({"plugin": "json-map", "config": {"title": "/a"}})).await
            .assert_error(422, "validation_failed", Some("config.body"));
        set_adapter(&server, &user, &endpoint, json!({"plugin": "alertmanager", "config": []})).await
            .assert_error(422, "validation_failed", Some("config"));
        set_adapter(&server, &user, &endpoint, json!({"plugin": "github"})).await
            .assert_error(422, "validation_failed", Some("config.secret"));

        // Another user's endpoint is not found, for every adapter route.
        let other = server.user().await;
        set_adapter(&server, &other, &endpoint, json!({"plugin": "alertmanager"})).await.assert_status(404);
        server.delete(&format!("/api/ingest-endpoints/{}/adapter", endpoint.id), Some(&other.token)).await.assert_status(404);
        server.post(&format!("/api/ingest-endpoints/{}/adapter/test", endpoint.id), Some(&other.token), json!({"body": "{}"})).await.assert_status(404);
        // Testing an endpoint without an adapter and without a proposal names the field.
        server.post(&format!("/api/ingest-endpoints/{}/adapter/test", endpoint.id), Some(&user.token), json!({"body": "{}"})).await
            .assert_error(422, "validation_failed", Some("adapter"));

        // An idempotency key covers the whole request, every message of it.
        set_adapter(&server, &user, &endpoint, json!({"plugin": "alertmanager"})).await.assert_status(200);
        let first = post(&server, &endpoint, &fixture("alertmanager.json"), &[("Idempotency-Key", "group-1")]).await;
        first.assert_status(201);
        let again = post(&server, &endpoint, &fixture("alertmanager.json"), &[("Idempotency-Key", "group-1")]).await;
        again.assert_status(201);
        assert_eq!(again.headers.get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
        assert_eq!(ids(&again), ids(&first));
        assert_eq!(server.message_ids(&user, "").await.len(), 2);
        let other_body = fixture("alertmanager.json").replace("InstanceDown", "InstanceGone");
        post(&server, &endpoint, &other_body, &[("Idempotency-Key", "group-1")]).await
            .assert_error(422, "idempotency_key_reused", Some("Idempotency-Key"));
        // An adapter that makes no message answers 200 with an empty list.
        let quiet = fixture("alertmanager.json").replace("\"status\": \"firing\",\n      \"labels\"", "\"status\": \"resolved\",\n      \"labels\"");
        set_adapter(&server, &user, &endpoint, json!({"plugin": "alertmanager", "config": {"send_resolved": false}})).await.assert_status(200);
        let none = post(&server, &endpoint, &quiet, &[]).await;
        none.assert_status(200);
        assert_eq!(none.json["message_ids"], json!([]));
        assert_eq!(none.json["message_id"], Value::Null);
    }
}
