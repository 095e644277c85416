//! Plugins built against the previous WIT line, `beacon:plugin@0.2.0`, keep
//! loading and running beside current ones. The two components in
//! `tests/fixtures/compat/` were built with the 0.2 SDK and are kept as test
//! data: the `http-post` example channel and the hostile test filter.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::receiver::{Answer, Receiver};
use crate::common::{Db, TestServer};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/compat")
        .join(name)
}

fn listed<'a>(plugins: &'a Value, id: &str) -> &'a Value {
    plugins["items"]
        .as_array()
        .and_then(|items| items.iter().find(|p| p["id"] == id))
        .unwrap_or_else(|| panic!("{id} is not listed: {plugins}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_built_for_wit_0_2_still_deliver_and_decide() {
    let plugins_dir = tempfile::tempdir().expect("tempdir");
    for name in ["http-post-wit-0.2.0.wasm", "hostile-filter-wit-0.2.0.wasm"] {
        std::fs::copy(fixture(name), plugins_dir.path().join(name)).expect("copy fixture");
    }
    let receiver = Receiver::start(vec![], Answer::json(200, json!({"ok": true}))).await;
    let dir = plugins_dir.path().display().to_string();
    let server = TestServer::start_with(
        Db::Sqlite,
        &[
            ("BEACON_PLUGINS_DIR", dir.as_str()),
            ("BEACON_OUTBOUND_ALLOWLIST", "127.0.0.1/32"),
        ],
    )
    .await;
    let user = server.user().await;

    let plugins = server.get("/api/plugins", Some(&user.token)).await;
    plugins.assert_status(200);
    let old_channel = listed(&plugins.json, "http-post");
    assert_eq!(old_channel["wit_version"], "0.2.0", "{old_channel}");
    assert_eq!(old_channel["capabilities"], json!(["http", "log"]));
    let old_filter = listed(&plugins.json, "hostile-filter");
    assert_eq!(old_filter["wit_version"], "0.2.0", "{old_filter}");
    assert_eq!(listed(&plugins.json, "bark")["wit_version"], "0.3.0");

    let channel = server
        .post(
            "/api/channels",
            Some(&user.token),
            json!({"name": "old hook", "plugin": "http-post",
                   "config": {"url": format!("{}/hook", receiver.base_url)}}),
        )
        .await;
    channel.assert_status(201);
    for (name, mode) in [
        ("old filter says yes", "match"),
        ("old filter says no", "no-match"),
    ] {
        server
            .post(
                "/api/rules",
                Some(&user.token),
                json!({"name": name, "channel_id": channel.json["id"],
                       "extra_filters": [{"plugin": "hostile-filter", "config": {"mode": mode}}],
                       "payload_template": {"text": "{{message.body}}", "rule": name}}),
            )
            .await
            .assert_status(201);
    }
    let endpoint = server.endpoint(&user, "legacy").await;
    let id = server
        .ingest_ok(&endpoint, json!({"body": "still works"}))
        .await;

    let started = Instant::now();
    let deliveries = loop {
        let detail = server
            .get(&format!("/api/messages/{id}"), Some(&user.token))
            .await;
        let deliveries = detail.json["deliveries"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if deliveries.iter().any(|d| d["status"] == "sent") {
            break deliveries;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "not delivered: {}",
            detail.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        deliveries.len(),
        1,
        "only the matching rule fires: {deliveries:?}"
    );
    let received = receiver.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].path, "/hook");
    assert_eq!(
        received[0].json(),
        json!({"text": "still works", "rule": "old filter says yes"})
    );
}

/// A channel plugin written in JavaScript with `sdk/js`, built from source
/// by the test, installed into a real server and delivering to a receiver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_channel_built_from_source_delivers() {
    let wasm = tokio::task::spawn_blocking(crate::common::fixtures::js_channel)
        .await
        .expect("build");
    let plugins_dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&wasm, plugins_dir.path().join("js_webhook.wasm")).expect("copy");
    let receiver = Receiver::start(vec![], Answer::json(200, json!({"ok": true}))).await;
    let dir = plugins_dir.path().display().to_string();
    let server = TestServer::start_with(
        Db::Sqlite,
        &[
            ("BEACON_PLUGINS_DIR", dir.as_str()),
            ("BEACON_OUTBOUND_ALLOWLIST", "127.0.0.1/32"),
        ],
    )
    .await;
    let user = server.user().await;
    let plugins = server.get("/api/plugins", Some(&user.token)).await;
    let js = listed(&plugins.json, "js-webhook");
    assert_eq!(js["wit_version"], "0.3.0", "{js}");
    assert!(
        !js["capabilities"].to_string().contains("wasi"),
        "only beacon:plugin capabilities: {js}"
    );
    let channel = server
        .post(
            "/api/channels",
            Some(&user.token),
            json!({"name": "js", "plugin": "js-webhook",
                   "config": {"url": format!("{}/js", receiver.base_url), "token": "js-secret"}}),
        )
        .await;
    channel.assert_status(201);
    assert_eq!(channel.json["config"]["token"], "********");
    server
        .post(
            "/api/rules",
            Some(&user.token),
            json!({"name": "to js", "channel_id": channel.json["id"],
                   "payload_template": {"text": "{{message.body}}"}}),
        )
        .await
        .assert_status(201);
    let endpoint = server.endpoint(&user, "js").await;
    let id = server
        .ingest_ok(&endpoint, json!({"body": "from JavaScript"}))
        .await;
    let started = Instant::now();
    loop {
        let detail = server
            .get(&format!("/api/messages/{id}"), Some(&user.token))
            .await;
        if detail.json["deliveries"][0]["status"] == "sent" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not delivered: {}",
            detail.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let received = receiver.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].path, "/js");
    assert_eq!(
        received[0].header("authorization"),
        Some("Bearer js-secret")
    );
    assert_eq!(received[0].json(), json!({"text": "from JavaScript"}));
}

/// The Python channel and the JavaScript and Python filters, built from
/// source by the test, installed into a real server: a message passes the
/// JavaScript filter's rule (delivered through the Python channel with its
/// secret header) and is held by the Python filter's rule, which says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_and_javascript_plugins_built_from_source_decide_and_deliver() {
    let built = tokio::task::spawn_blocking(|| {
        let js = std::thread::spawn(crate::common::fixtures::js_filter);
        let python = [
            crate::common::fixtures::python_channel(),
            crate::common::fixtures::python_filter(),
        ];
        let js = js.join().expect("js build");
        [python[0].clone(), python[1].clone(), js]
    })
    .await
    .expect("build");
    let plugins_dir = tempfile::tempdir().expect("tempdir");
    for wasm in &built {
        let name = wasm.file_name().expect("file name");
        std::fs::copy(wasm, plugins_dir.path().join(name)).expect("copy");
    }
    let receiver = Receiver::start(vec![], Answer::json(200, json!({"ok": true}))).await;
    let dir = plugins_dir.path().display().to_string();
    let server = TestServer::start_with(
        Db::Sqlite,
        &[
            ("BEACON_PLUGINS_DIR", dir.as_str()),
            ("BEACON_OUTBOUND_ALLOWLIST", "127.0.0.1/32"),
        ],
    )
    .await;
    let user = server.user().await;
    let plugins = server.get("/api/plugins", Some(&user.token)).await;
    for id in ["py-webhook", "py-keyword", "js-keyword"] {
        let plugin = listed(&plugins.json, id);
        assert_eq!(plugin["wit_version"], "0.3.0", "{plugin}");
        assert!(
            !plugin["capabilities"].to_string().contains("wasi"),
            "only beacon:plugin capabilities: {plugin}"
        );
    }
    let channel = server
        .post(
            "/api/channels",
            Some(&user.token),
            json!({"name": "py", "plugin": "py-webhook",
                   "config": {"url": format!("{}/py", receiver.base_url), "token": "py-secret"}}),
        )
        .await;
    channel.assert_status(201);
    assert_eq!(channel.json["config"]["token"], "********");
    for (name, plugin, keyword) in [
        ("js says disk", "js-keyword", "disk"),
        ("py says cpu", "py-keyword", "cpu"),
    ] {
        server
            .post(
                "/api/rules",
                Some(&user.token),
                json!({"name": name, "channel_id": channel.json["id"],
                       "extra_filters": [{"plugin": plugin, "config": {"keywords": [keyword]}}],
                       "payload_template": {"rule": name, "text": "{{message.body}}"}}),
            )
            .await
            .assert_status(201);
    }
    let endpoint = server.endpoint(&user, "languages").await;
    let id = server
        .ingest_ok(&endpoint, json!({"body": "disk almost full"}))
        .await;
    let started = Instant::now();
    let detail = loop {
        let detail = server
            .get(&format!("/api/messages/{id}"), Some(&user.token))
            .await;
        if detail.json["deliveries"][0]["status"] == "sent" {
            break detail;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not delivered: {}",
            detail.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        detail.json["deliveries"].as_array().map(Vec::len),
        Some(1),
        "only the JavaScript filter's rule matched: {}",
        detail.text
    );
    let notes = detail.json["filter_errors"].to_string();
    assert!(
        notes.contains("py-keyword: no keyword in the title or body"),
        "the Python filter says why it held the message: {notes}"
    );
    let received = receiver.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].path, "/py");
    assert_eq!(
        received[0].header("authorization"),
        Some("Bearer py-secret")
    );
    assert_eq!(
        received[0].json(),
        json!({"rule": "js says disk", "text": "disk almost full"})
    );
}
