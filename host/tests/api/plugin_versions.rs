//! Plugin versions side by side (channels and rule filters pin one or follow
//! the newest; upgrade, rollback, per-version removal) and per-plugin grants
//! (hosts, capabilities, memory and time), through the HTTP API of a real
//! server delivering to a local receiver.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::fixtures::{hostile, test_plugin};
use crate::common::receiver::{Answer, Receiver};
use crate::common::{Db, Reply, TestServer, TestUser};
use crate::operators::{operator, read, upload};

async fn server() -> TestServer {
    TestServer::start_with(Db::Sqlite, &[("BEACON_OUTBOUND_ALLOWLIST", "127.0.0.1/32")]).await
}

async fn send_json(
    server: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Value,
) -> Reply {
    server
        .send(server.request(method, path, Some(token)).json(&body))
        .await
}

async fn channel(server: &TestServer, user: &TestUser, body: Value) -> String {
    let created = server.post("/api/channels", Some(&user.token), body).await;
    created.assert_status(201);
    created.json["id"].as_str().expect("id").to_string()
}

/// Waits until the receiver has `count` requests, and returns them as JSON.
async fn received(receiver: &Receiver, count: usize) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let got = receiver.received();
        if got.len() >= count {
            return got.iter().map(|r| r.json()).collect();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "only {} of {count} deliveries arrived",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The version each delivery (by rule name in the payload) came through.
fn versions_by_rule(bodies: &[Value]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = bodies
        .iter()
        .map(|b| {
            (
                b["payload"]["rule"].as_str().unwrap_or("?").to_string(),
                b["version"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

fn version_row<'a>(plugin: &'a Value, version: &str) -> &'a Value {
    plugin["versions"]
        .as_array()
        .and_then(|versions| versions.iter().find(|v| v["version"] == version))
        .unwrap_or_else(|| panic!("no version {version}: {plugin}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_sit_side_by_side_and_channels_pin_or_follow() {
    let server = server().await;
    let admin = operator(&server).await;
    let user = server.user().await;
    let receiver = Receiver::start(vec![], Answer::json(200, json!({"ok": true}))).await;
    let url = format!("{}/hook", receiver.base_url);

    upload(
        &server,
        Some(&admin.token),
        read(test_plugin("upgrade_channel_v1.wasm")),
    )
    .await
    .assert_status(201);
    let following = channel(
        &server,
        &user,
        json!({"name": "follows", "plugin": "upgrade-channel", "config": {"url": url}}),
    )
    .await;
    let pinned = channel(
        &server,
        &user,
        json!({"name": "pinned", "plugin": "upgrade-channel", "plugin_version": "1.0.0",
               "config": {"url": url}}),
    )
    .await;
    // A version that is not installed cannot be pinned.
    server
        .post(
            "/api/channels",
            Some(&user.token),
            json!({"name": "x", "plugin": "upgrade-channel", "plugin_version": "9.9.9",
                   "config": {"url": url}}),
        )
        .await
        .assert_error(422, "unknown_plugin_version", Some("plugin_version"));
    for (name, channel_id) in [("follows", &following), ("pinned", &pinned)] {
        server
            .post(
                "/api/rules",
                Some(&user.token),
                json!({"name": name, "channel_id": channel_id,
                       "payload_template": {"rule": name}}),
            )
            .await
            .assert_status(201);
    }

    // Upgrade: 2.0.0 sits beside 1.0.0; only the follower moves.
    let upgraded = upload(
        &server,
        Some(&admin.token),
        read(test_plugin("upgrade_channel_v2.wasm")),
    )
    .await;
    upgraded.assert_status(201);
    assert_eq!(upgraded.json["version"], "2.0.0", "{}", upgraded.text);
    let versions: Vec<&str> = upgraded.json["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["version"].as_str().expect("version"))
        .collect();
    assert_eq!(versions, ["2.0.0", "1.0.0"], "newest first");
    assert_eq!(version_row(&upgraded.json, "2.0.0")["channels"], 1);
    assert_eq!(version_row(&upgraded.json, "1.0.0")["channels"], 1);
    assert_eq!(version_row(&upgraded.json, "2.0.0")["newest"], true);
    // The same file again changes nothing; other contents under 2.0.0 are refused.
    upload(
        &server,
        Some(&admin.token),
        read(test_plugin("upgrade_channel_v2.wasm")),
    )
    .await
    .assert_status(201);

    let endpoint = server.endpoint(&user, "versions").await;
    server.ingest_ok(&endpoint, json!({"body": "one"})).await;
    let bodies = received(&receiver, 2).await;
    assert_eq!(
        versions_by_rule(&bodies),
        [
            ("follows".to_string(), "2.0.0".to_string()),
            ("pinned".to_string(), "1.0.0".to_string())
        ]
    );

    // Rollback: the follower pins 1.0.0.
    let rolled_back = send_json(
        &server,
        Method::PATCH,
        &format!("/api/channels/{following}"),
        &user.token,
        json!({"plugin_version": "1.0.0"}),
    )
    .await;
    rolled_back.assert_status(200);
    assert_eq!(rolled_back.json["plugin_version"], "1.0.0");
    assert_eq!(rolled_back.json["running_version"], "1.0.0");
    server.ingest_ok(&endpoint, json!({"body": "two"})).await;
    let bodies = received(&receiver, 4).await;
    assert!(
        versions_by_rule(&bodies[2..])
            .iter()
            .all(|(_, v)| v == "1.0.0"),
        "{bodies:?}"
    );

    // What uses each version, as the operator and as the owner see it.
    let detail = server
        .get("/api/plugins/upgrade-channel", Some(&admin.token))
        .await;
    detail.assert_status(200);
    assert_eq!(detail.json["used_by"].as_array().map(Vec::len), Some(2));
    assert_eq!(version_row(&detail.json, "1.0.0")["channels"], 2);
    assert_eq!(version_row(&detail.json, "2.0.0")["channels"], 0);
    let stranger = server.user().await;
    let theirs = server
        .get("/api/plugins/upgrade-channel", Some(&stranger.token))
        .await;
    assert_eq!(
        theirs.json["used_by"],
        json!([]),
        "another user's channels stay hidden"
    );
    assert_eq!(version_row(&theirs.json, "1.0.0")["channels"], 0);

    // 2.0.0 is unused now: removing it needs no force. 1.0.0 is pinned.
    let remove = |version: &str, token: &str| {
        let path = format!("/api/plugins/upgrade-channel/versions/{version}");
        let (server, token) = (&server, token.to_string());
        async move { server.delete(&path, Some(&token)).await }
    };
    remove("2.0.0", &admin.token).await.assert_status(204);
    remove("1.0.0", &admin.token)
        .await
        .assert_error(409, "plugin_in_use", None);
    remove("1.0.0", &user.token)
        .await
        .assert_error(403, "operators_only", None);
    remove("3.0.0", &admin.token)
        .await
        .assert_error(404, "not_found", None);
    remove("1.0.0?force=true", &admin.token)
        .await
        .assert_status(204);

    // Forced: the channels are broken, their deliveries wait with the reason.
    let broken = server
        .get(&format!("/api/channels/{pinned}"), Some(&user.token))
        .await;
    assert_eq!(
        broken.json["running_version"],
        Value::Null,
        "{}",
        broken.text
    );
    let id = server.ingest_ok(&endpoint, json!({"body": "three"})).await;
    let started = Instant::now();
    loop {
        let detail = server
            .get(&format!("/api/messages/{id}"), Some(&user.token))
            .await;
        let errors: Vec<String> = detail.json["deliveries"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["last_error"].as_str().map(str::to_string))
            .collect();
        if errors.len() == 2 {
            assert!(
                errors
                    .iter()
                    .all(|e| e.contains("1.0.0") && e.contains("not installed")),
                "{errors:?}"
            );
            assert!(
                detail.json["deliveries"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .all(|d| d["status"] != "failed"),
                "waiting, not dropped: {}",
                detail.text
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{}",
            detail.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Installing the version again mends them.
    upload(
        &server,
        Some(&admin.token),
        read(test_plugin("upgrade_channel_v1.wasm")),
    )
    .await
    .assert_status(201);
    let mended = server
        .get(&format!("/api/channels/{pinned}"), Some(&user.token))
        .await;
    assert_eq!(mended.json["running_version"], "1.0.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_filters_pin_a_version() {
    let server = server().await;
    let admin = operator(&server).await;
    let user = server.user().await;
    for file in ["upgrade_v1.wasm", "upgrade_v2.wasm"] {
        upload(&server, Some(&admin.token), read(test_plugin(file)))
            .await
            .assert_status(201);
    }
    let receiver = Receiver::start(vec![], Answer::json(200, json!({"ok": true}))).await;
    let hook = channel(
        &server,
        &user,
        json!({"name": "hook", "plugin": "webhook",
               "config": {"url": format!("{}/hook", receiver.base_url),
                          "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}),
    )
    .await;
    // 1.0.0 matches every message, 2.0.0 none.
    for (name, version) in [("pinned to v1", json!("1.0.0")), ("newest", Value::Null)] {
        server
            .post(
                "/api/rules",
                Some(&user.token),
                json!({"name": name, "channel_id": hook,
                       "extra_filters": [{"plugin": "upgrade-filter", "version": version, "config": {}}],
                       "payload_template": {"rule": name}}),
            )
            .await
            .assert_status(201);
    }
    server
        .post(
            "/api/rules",
            Some(&user.token),
            json!({"name": "bad", "channel_id": hook,
                   "extra_filters": [{"plugin": "upgrade-filter", "version": "7.0.0", "config": {}}]}),
        )
        .await
        .assert_error(
            422,
            "unknown_plugin_version",
            Some("extra_filters[0].version"),
        );
    let endpoint = server.endpoint(&user, "filters").await;
    server.ingest_ok(&endpoint, json!({"body": "x"})).await;
    let bodies = received(&receiver, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1, "only the pinned rule matched");
    assert_eq!(bodies[0]["rule"], "pinned to v1");
    let plugin = server
        .get("/api/plugins/upgrade-filter", Some(&user.token))
        .await;
    assert_eq!(version_row(&plugin.json, "1.0.0")["rules"], 1);
    assert_eq!(version_row(&plugin.json, "2.0.0")["rules"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_restrict_hosts_capabilities_memory_and_time() {
    let server = server().await;
    let admin = operator(&server).await;
    let user = server.user().await;
    let receiver = Receiver::start(vec![], Answer::json(200, json!({"ok": true}))).await;
    upload(
        &server,
        Some(&admin.token),
        read(test_plugin("upgrade_channel_v1.wasm")),
    )
    .await
    .assert_status(201);
    let hook = channel(
        &server,
        &user,
        json!({"name": "hook", "plugin": "upgrade-channel",
               "config": {"url": format!("{}/hook", receiver.base_url)}}),
    )
    .await;
    let test_send = || async {
        server
            .post(
                &format!("/api/channels/{hook}/test"),
                Some(&user.token),
                json!({}),
            )
            .await
    };
    let grant = |grants: Value| {
        send_json(
            &server,
            Method::PUT,
            "/api/plugins/upgrade-channel/grants",
            &admin.token,
            grants,
        )
    };
    assert_eq!(test_send().await.json["ok"], true);

    // Hosts: another host only, then the receiver's.
    let narrowed = grant(json!({"allowed_hosts": ["hooks.example.com"]})).await;
    narrowed.assert_status(200);
    assert_eq!(
        narrowed.json["grants"]["allowed_hosts"],
        json!(["hooks.example.com"])
    );
    let refused = test_send().await;
    assert_eq!(refused.json["ok"], false);
    assert!(
        refused.json["error"]
            .as_str()
            .is_some_and(|e| e.contains("not among the hosts this plugin is granted")),
        "{}",
        refused.text
    );
    grant(json!({"allowed_hosts": ["127.0.0.1"]}))
        .await
        .assert_status(200);
    assert_eq!(test_send().await.json["ok"], true);
    // A private address stays refused when the operator explicitly blocks private networks.
    grant(json!({"allowed_hosts": ["127.0.0.1"], "allow_private_networks": false}))
        .await
        .assert_status(200);
    let blocked = test_send().await;
    assert_eq!(blocked.json["ok"], false, "{}", blocked.text);

    // Capabilities: without http the send fails with the reason.
    grant(json!({"capabilities": ["log"]}))
        .await
        .assert_status(200);
    let withheld = test_send().await;
    assert!(
        withheld.json["error"]
            .as_str()
            .is_some_and(|e| e.contains("not granted this plugin the http capability")),
        "{}",
        withheld.text
    );

    // Limits show on the plugin; refusals name the field.
    let limited = grant(json!({"memory_mib": 32, "timeout_ms": 4000})).await;
    limited.assert_status(200);
    assert_eq!(
        limited.json["limits"],
        json!({"memory_mib": 32, "timeout_ms": 4000})
    );
    assert_eq!(
        test_send().await.json["ok"],
        true,
        "defaults restored besides the limits"
    );
    for (body, field) in [
        (
            json!({"allowed_hosts": ["ok.test", "https://x.test/"]}),
            "allowed_hosts[1]",
        ),
        (json!({"memory_mib": 0}), "memory_mib"),
        (json!({"timeout_ms": 50001}), "timeout_ms"),
        (json!({"capabilities": ["sockets"]}), "capabilities[0]"),
    ] {
        grant(body)
            .await
            .assert_error(422, "invalid_grant", Some(field));
    }
    send_json(
        &server,
        Method::PUT,
        "/api/plugins/upgrade-channel/grants",
        &user.token,
        json!({}),
    )
    .await
    .assert_error(403, "operators_only", None);
    assert!(
        server
            .data_dir()
            .join("plugins/upgrade-channel.grants.json")
            .exists(),
        "stored beside the plugin, for every process sharing the directory"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_and_time_grants_are_enforced_per_plugin() {
    let server = server().await;
    let admin = operator(&server).await;
    let user = server.user().await;
    upload(&server, Some(&admin.token), read(hostile("channel")))
        .await
        .assert_status(201);
    let make = |mode: &str, mib: u64| {
        let body = json!({"name": mode, "plugin": "hostile-channel",
                          "config": {"mode": mode, "mib": mib}});
        let (server, user) = (&server, &user);
        async move { channel(server, user, body).await }
    };
    let big = make("alloc", 96).await;
    let looping = make("loop", 0).await;
    let test_send = |id: String| {
        let (server, user) = (&server, &user);
        async move {
            server
                .post(
                    &format!("/api/channels/{id}/test"),
                    Some(&user.token),
                    json!({}),
                )
                .await
        }
    };
    // 96 MiB is over the host's 64 MiB default; a grant of 160 allows it.
    let refused = test_send(big.clone()).await;
    assert!(
        refused.json["error"]
            .as_str()
            .is_some_and(|e| e.contains("memory")),
        "{}",
        refused.text
    );
    let grant = |grants: Value| {
        send_json(
            &server,
            Method::PUT,
            "/api/plugins/hostile-channel/grants",
            &admin.token,
            grants,
        )
    };
    // A generous deadline here: touching 96 MiB can take a while on a
    // loaded machine, and this step is about memory.
    grant(json!({"memory_mib": 160, "timeout_ms": 10000}))
        .await
        .assert_status(200);
    let allowed = test_send(big).await;
    assert_eq!(allowed.json["ok"], true, "{}", allowed.text);
    // A busy loop is cut at the granted 300 ms, not the default deadline.
    grant(json!({"memory_mib": 160, "timeout_ms": 300}))
        .await
        .assert_status(200);
    let cut = test_send(looping).await;
    assert!(
        cut.json["error"]
            .as_str()
            .is_some_and(|e| e.contains("300 ms")),
        "{}",
        cut.text
    );
}
