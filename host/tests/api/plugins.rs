//! The plugin runtime through the CLI harness and the API: built-in plugins,
//! hostile plugins (loop, memory bomb, panic) stopped cleanly, install checks.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common::fixtures::{builtin, hostile, test_plugin};
use crate::common::{Db, TestServer};

fn beacon(data_dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_beacon"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BEACON_DATA_DIR", data_dir)
        .env("BEACON_LOG_FORMAT", "text")
        .env("RUST_LOG", "warn")
        .env("PLUGIN_FILTER_TIMEOUT_MS", "200")
        .env("PLUGIN_MEMORY_LIMIT_MB", "32")
        .env("BARK_REQUEST_TIMEOUT_SECONDS", "1")
        .args(args)
        .output()
        .expect("run beacon")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn harness_runs_the_builtin_standard_filter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wasm = builtin("standard_filter.wasm");
    let wasm = wasm.to_str().expect("path");
    let matched = beacon(
        dir.path(),
        &[
            "plugin",
            "run",
            wasm,
            "--config",
            r#"{"priority":{"min":4},"tags":["ops"]}"#,
            "--message",
            r#"{"body":"disk","priority":5,"tags":["OPS"]}"#,
        ],
    );
    assert!(matched.status.success(), "{}", text(&matched));
    assert!(
        text(&matched).contains(r#"{"matched":true}"#),
        "{}",
        text(&matched)
    );
    let missed = beacon(
        dir.path(),
        &[
            "plugin",
            "run",
            wasm,
            "--config",
            r#"{"priority":{"min":4}}"#,
            "--message",
            r#"{"body":"disk","priority":2}"#,
        ],
    );
    assert!(
        text(&missed).contains(r#"{"matched":false}"#),
        "{}",
        text(&missed)
    );
    let bad = beacon(
        dir.path(),
        &[
            "plugin",
            "run",
            wasm,
            "--config",
            r#"{"body":{"regex":"("}}"#,
        ],
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad).contains("body.regex"),
        "the config error names the field: {}",
        text(&bad)
    );
}

#[test]
fn hostile_filters_are_stopped_not_fatal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wasm = hostile("filter");
    let wasm = wasm.to_str().expect("path");
    for (mode, expected) in [
        ("loop", "ran out of time"),
        ("bomb", "memory limit"),
        ("panic", "trapped"),
    ] {
        let start = Instant::now();
        let output = beacon(
            dir.path(),
            &[
                "plugin",
                "run",
                wasm,
                "--config",
                &format!(r#"{{"mode":"{mode}"}}"#),
            ],
        );
        assert!(!output.status.success(), "{mode}: {}", text(&output));
        assert!(
            text(&output).contains(expected),
            "{mode}: expected {expected:?} in {}",
            text(&output)
        );
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{mode} took {:?}",
            start.elapsed()
        );
    }
    let ok = beacon(
        dir.path(),
        &["plugin", "run", wasm, "--config", r#"{"mode":"match"}"#],
    );
    assert!(text(&ok).contains(r#"{"matched":true}"#), "{}", text(&ok));
}

#[test]
fn hostile_senders_are_stopped_not_fatal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wasm = hostile("channel");
    let wasm = wasm.to_str().expect("path");
    for (mode, expected) in [
        ("loop", "ran out of time"),
        ("bomb", "memory limit"),
        ("panic", "trapped"),
    ] {
        let output = beacon(
            dir.path(),
            &[
                "plugin",
                "run",
                wasm,
                "--config",
                &format!(r#"{{"mode":"{mode}"}}"#),
            ],
        );
        assert!(!output.status.success(), "{mode}: {}", text(&output));
        assert!(
            text(&output).contains(expected),
            "{mode}: expected {expected:?} in {}",
            text(&output)
        );
    }
}

#[test]
fn install_list_remove_and_refusals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let filter = hostile("filter");
    let installed = beacon(
        dir.path(),
        &["plugin", "install", filter.to_str().expect("path")],
    );
    assert!(installed.status.success(), "{}", text(&installed));
    assert!(dir
        .path()
        .join("plugins")
        .join("hostile-filter@0.1.0.wasm")
        .exists());
    let list = beacon(dir.path(), &["plugin", "list"]);
    let listing = text(&list);
    for expected in ["bark", "standard-filter", "hostile-filter"] {
        assert!(
            listing.contains(expected),
            "{expected} missing from {listing}"
        );
    }
    assert!(listing.contains("built-in") && listing.contains("installed"));

    let builtin_removal = beacon(dir.path(), &["plugin", "remove", "bark"]);
    assert!(!builtin_removal.status.success());
    assert!(text(&builtin_removal).contains("built-in"));
    let removed = beacon(dir.path(), &["plugin", "remove", "hostile-filter"]);
    assert!(removed.status.success(), "{}", text(&removed));
    assert!(!dir
        .path()
        .join("plugins")
        .join("hostile-filter@0.1.0.wasm")
        .exists());

    // Not a component: a core module, and garbage.
    let core_module = dir.path().join("core.wasm");
    std::fs::write(&core_module, b"\0asm\x01\x00\x00\x00").expect("write");
    let refused = beacon(
        dir.path(),
        &["plugin", "install", core_module.to_str().expect("path")],
    );
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("core WebAssembly module"),
        "{}",
        text(&refused)
    );
    let garbage = dir.path().join("garbage.wasm");
    std::fs::write(&garbage, b"definitely not wasm").expect("write");
    let refused = beacon(
        dir.path(),
        &["plugin", "install", garbage.to_str().expect("path")],
    );
    assert!(
        text(&refused).contains("not a WebAssembly component"),
        "{}",
        text(&refused)
    );
}

/// Real components that must be refused at install, each with its reason.
#[test]
fn install_refuses_foreign_versions_and_overreaching_imports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wit_version = beacon_host::plugins::runtime::WIT_VERSION;
    for (file, expected) in [
        (
            "old_wit_filter.wasm",
            format!("built for beacon:plugin@0.1.0, but this host implements beacon:plugin@{wit_version}"),
        ),
        (
            "overreach_filter.wasm",
            format!("imports beacon:plugin/http@{wit_version}, but filter plugins get no network access"),
        ),
        (
            "socket_filter.wasm",
            "imports wasi:sockets/".to_string(),
        ),
    ] {
        let wasm = test_plugin(file);
        let refused = beacon(dir.path(), &["plugin", "install", wasm.to_str().expect("path")]);
        assert!(!refused.status.success(), "{file} was installed: {}", text(&refused));
        assert!(text(&refused).contains(&expected), "{file}: {}", text(&refused));
        // Nothing is left in the plugins directory.
        let left: Vec<_> = std::fs::read_dir(dir.path().join("plugins"))
            .map(|entries| entries.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{file} left {left:?}");
    }
}

#[tokio::test]
async fn api_lists_plugins_with_schemas() {
    let server = TestServer::start(Db::Sqlite).await;
    let user = server.user().await;
    server
        .get("/api/plugins", None)
        .await
        .assert_error(401, "missing_token", None);
    let reply = server.get("/api/plugins", Some(&user.token)).await;
    reply.assert_status(200);
    let items = reply.json["items"].as_array().expect("items");
    let bark = items
        .iter()
        .find(|p| p["id"] == "bark")
        .expect("bark listed");
    assert_eq!(bark["kind"], "channel");
    assert_eq!(bark["builtin"], true);
    assert!(
        bark["config_schema"]["properties"]["server_base_url"].is_object(),
        "{}",
        bark["config_schema"]
    );
    let filter = items
        .iter()
        .find(|p| p["id"] == "standard-filter")
        .expect("standard filter listed");
    assert_eq!(filter["kind"], "filter");
}

/// `beacon plugin install` / `remove` reach a running server without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_server_picks_up_installed_and_removed_plugins() {
    let plugins_dir = tempfile::tempdir().expect("tempdir");
    let dir = plugins_dir.path().display().to_string();
    let server = TestServer::start_with(
        Db::Sqlite,
        &[
            ("BEACON_PLUGINS_DIR", dir.as_str()),
            ("PLUGIN_RELOAD_SECONDS", "1"),
        ],
    )
    .await;
    let user = server.user().await;
    let listed = |reply: &crate::common::Reply| -> Vec<String> {
        reply.json["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|p| p["id"].as_str().expect("id").to_string())
            .collect()
    };
    assert!(
        !listed(&server.get("/api/plugins", Some(&user.token)).await)
            .contains(&"hostile-filter".to_string())
    );

    let cli_data = tempfile::tempdir().expect("tempdir");
    let install = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BEACON_DATA_DIR", cli_data.path())
        .env("BEACON_PLUGINS_DIR", plugins_dir.path())
        .args(["plugin", "install"])
        .arg(hostile("filter"))
        .output()
        .expect("install");
    assert!(install.status.success(), "{}", text(&install));

    let wait_for = |present: bool| {
        let server = &server;
        let token = user.token.clone();
        async move {
            let started = Instant::now();
            loop {
                let ids = listed(&server.get("/api/plugins", Some(&token)).await);
                if ids.contains(&"hostile-filter".to_string()) == present {
                    return;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(15),
                    "plugin list never became {present}: {ids:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    wait_for(true).await;
    std::fs::remove_file(plugins_dir.path().join("hostile-filter@0.1.0.wasm")).expect("remove");
    wait_for(false).await;
}
