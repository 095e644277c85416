//! Operators: the role (`beacon user create --admin`, `beacon user promote`,
//! `is_admin` in `/api/auth/me`), plugin upload through the API with one
//! answer per refusal, and `beacon plugin check`.

use std::process::Command;

use serde_json::json;

use crate::common::fixtures::{builtin, http_post, test_plugin};
use crate::common::{Db, Reply, TestServer, TestUser};

pub(crate) async fn operator(server: &TestServer) -> TestUser {
    let user = server.user().await;
    assert!(server
        .state
        .app
        .accounts
        .promote(&user.email)
        .await
        .expect("promote"));
    user
}

pub(crate) async fn upload(server: &TestServer, token: Option<&str>, bytes: Vec<u8>) -> Reply {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name("plugin.wasm"),
    );
    server
        .send(
            server
                .request(reqwest::Method::POST, "/api/plugins", token)
                .multipart(form),
        )
        .await
}

pub(crate) fn read(path: std::path::PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_tells_operators_apart() {
    let server = TestServer::start(Db::Sqlite).await;
    let user = server.user().await;
    let me = server.get("/api/auth/me", Some(&user.token)).await;
    assert_eq!(me.json["is_admin"], false, "{}", me.text);
    let admin = operator(&server).await;
    let me = server.get("/api/auth/me", Some(&admin.token)).await;
    assert_eq!(me.json["is_admin"], true, "{}", me.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_uploads_a_plugin_and_everyone_can_use_it() {
    let server = TestServer::start(Db::Sqlite).await;
    let admin = operator(&server).await;
    let installed = upload(&server, Some(&admin.token), read(http_post())).await;
    installed.assert_status(201);
    assert_eq!(installed.json["id"], "http-post", "{}", installed.text);
    assert_eq!(installed.json["builtin"], false);
    assert_eq!(installed.json["wit_version"], "0.3.0");
    assert_eq!(installed.json["capabilities"], json!(["http", "log"]));
    // The same file again is a no-op install, not a conflict.
    upload(&server, Some(&admin.token), read(http_post()))
        .await
        .assert_status(201);

    let user = server.user().await;
    let listed = server.get("/api/plugins", Some(&user.token)).await;
    assert!(listed.json["items"]
        .as_array()
        .is_some_and(|items| items.iter().any(|p| p["id"] == "http-post")));
    server
        .post(
            "/api/channels",
            Some(&user.token),
            json!({"name": "hook", "plugin": "http-post", "config": {"url": "https://hooks.example.com/x"}}),
        )
        .await
        .assert_status(201);
    assert!(
        server
            .data_dir()
            .join("plugins/http-post@0.1.0.wasm")
            .exists(),
        "installed into the plugins directory, so it survives a restart"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_operators_upload() {
    let server = TestServer::start(Db::Sqlite).await;
    let user = server.user().await;
    upload(&server, Some(&user.token), read(http_post()))
        .await
        .assert_error(403, "operators_only", None);
    upload(&server, None, read(http_post()))
        .await
        .assert_error(401, "missing_token", None);
    // A refusal sent before a large body has arrived still reaches the
    // client as the answer, not as a reset connection.
    upload(&server, Some(&user.token), vec![b'x'; 8 << 20])
        .await
        .assert_error(403, "operators_only", None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_has_its_own_answer() {
    let server = TestServer::start(Db::Sqlite).await;
    let admin = operator(&server).await;
    let token = Some(admin.token.as_str());
    let empty_component = b"\0asm\x0d\x00\x01\x00".to_vec();
    let core_module = b"\0asm\x01\x00\x00\x00".to_vec();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "garbage",
            b"definitely not wasm".to_vec(),
            422,
            "not_a_component",
        ),
        ("a core module", core_module, 422, "not_a_component"),
        ("an empty component", empty_component, 422, "wrong_world"),
        (
            "a filter for WIT 0.1",
            read(test_plugin("old_wit_filter.wasm")),
            422,
            "unsupported_wit_version",
        ),
        (
            "a filter importing http",
            read(test_plugin("overreach_filter.wasm")),
            422,
            "capability_not_granted",
        ),
        (
            "a filter importing sockets",
            read(test_plugin("socket_filter.wasm")),
            422,
            "capability_not_granted",
        ),
        (
            "a built-in id",
            read(builtin("bark.wasm")),
            409,
            "builtin_plugin",
        ),
    ];
    for (what, bytes, status, code) in cases {
        let reply = upload(&server, token, bytes).await;
        assert_eq!(reply.status, status, "{what}: {}", reply.text);
        reply.assert_error(status, code, Some("file"));
    }
    // The same id and version with other contents: http-post 0.1.0 built
    // for WIT 0.3, then the 0.1.0 built for WIT 0.2.
    upload(&server, token, read(http_post()))
        .await
        .assert_status(201);
    let compat = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/compat/http-post-wit-0.2.0.wasm");
    upload(&server, token, read(compat)).await.assert_error(
        409,
        "plugin_version_exists",
        Some("file"),
    );
    let kept = server.get("/api/plugins/http-post", token).await;
    assert_eq!(
        kept.json["versions"].as_array().map(Vec::len),
        Some(1),
        "{}",
        kept.text
    );
    assert_eq!(kept.json["versions"][0]["wit_version"], "0.3.0");
    let too_large = upload(&server, token, vec![0u8; 33 * 1024 * 1024]).await;
    too_large.assert_error(413, "payload_too_large", None);
    let no_file = server
        .send(
            server
                .request(reqwest::Method::POST, "/api/plugins", token)
                .multipart(reqwest::multipart::Form::new().text("note", "no file here")),
        )
        .await;
    no_file.assert_error(400, "missing_file", Some("file"));
    let listed = server.get("/api/plugins", token).await;
    assert!(
        !listed.text.contains("overreach") && !listed.text.contains("hostile"),
        "nothing refused was installed: {}",
        listed.text
    );
}

fn beacon(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_beacon"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BEACON_DATA_DIR", data_dir)
        .env(
            "BEACON_PLUGIN_CACHE_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../target/test-plugin-cache"),
        )
        .env("RUST_LOG", "warn")
        .current_dir(data_dir);
    command
}

#[test]
fn operators_are_made_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let created = beacon(dir.path())
        .args([
            "user",
            "create",
            "--email",
            "root@example.com",
            "--password",
            "a long password",
            "--verified",
            "--admin",
        ])
        .output()
        .expect("run");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(String::from_utf8_lossy(&created.stdout).starts_with("created operator"));
    let plain = beacon(dir.path())
        .args([
            "user",
            "create",
            "--email",
            "later@example.com",
            "--password",
            "a long password",
        ])
        .output()
        .expect("run");
    assert!(plain.status.success());
    let promoted = beacon(dir.path())
        .args(["user", "promote", "LATER@example.com"])
        .output()
        .expect("run");
    assert!(
        promoted.status.success(),
        "{}",
        String::from_utf8_lossy(&promoted.stderr)
    );
    let unknown = beacon(dir.path())
        .args(["user", "promote", "nobody@example.com"])
        .output()
        .expect("run");
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("nobody@example.com"));
}

#[test]
fn plugin_check_says_what_install_would_without_installing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let checked = beacon(dir.path())
        .arg("plugin")
        .arg("check")
        .arg(http_post())
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(stdout.contains("accepted"), "{stdout}");
    assert!(
        stdout.contains("beacon:plugin/channel-sender@0.3.0"),
        "{stdout}"
    );
    assert!(stdout.contains("capabilities  http, log"), "{stdout}");
    assert!(stdout.contains("http-post"), "{stdout}");
    assert!(
        !dir.path().join("plugins/http-post@0.1.0.wasm").exists(),
        "check installs nothing"
    );
    let refused = beacon(dir.path())
        .arg("plugin")
        .arg("check")
        .arg(test_plugin("overreach_filter.wasm"))
        .output()
        .expect("run");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("filter plugins get no network access"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_plugin_in_use_needs_force_and_then_its_channels_show_it_missing() {
    let server = TestServer::start(Db::Sqlite).await;
    let admin = operator(&server).await;
    let token = Some(admin.token.as_str());
    upload(&server, token, read(http_post()))
        .await
        .assert_status(201);
    let user = server.user().await;
    let channel = server
        .post(
            "/api/channels",
            Some(&user.token),
            json!({"name": "hook", "plugin": "http-post", "config": {"url": "https://hooks.example.com/x"}}),
        )
        .await;
    channel.assert_status(201);

    server
        .delete("/api/plugins/http-post", Some(&user.token))
        .await
        .assert_error(403, "operators_only", None);
    let in_use = server.delete("/api/plugins/http-post", token).await;
    in_use.assert_error(409, "plugin_in_use", None);
    assert!(in_use.text.contains("1 channel"), "{}", in_use.text);
    server
        .delete("/api/plugins/bark", token)
        .await
        .assert_error(409, "builtin_plugin", Some("file"));
    server
        .delete("/api/plugins/no-such-plugin", token)
        .await
        .assert_status(404);

    server
        .delete("/api/plugins/http-post?force=true", token)
        .await
        .assert_status(204);
    assert!(!server
        .data_dir()
        .join("plugins/http-post@0.1.0.wasm")
        .exists());
    let listed = server.get("/api/plugins", Some(&user.token)).await;
    assert!(!listed.text.contains("\"http-post\""), "{}", listed.text);
    // The channel stays, and says its plugin is gone when used.
    let shown = server
        .get(
            &format!(
                "/api/channels/{}",
                channel.json["id"].as_str().unwrap_or_default()
            ),
            Some(&user.token),
        )
        .await;
    shown.assert_status(200);
    let tested = server
        .post(
            &format!(
                "/api/channels/{}/test",
                channel.json["id"].as_str().unwrap_or_default()
            ),
            Some(&user.token),
            json!({}),
        )
        .await;
    assert!(
        tested.text.contains("http-post"),
        "testing the broken channel names the missing plugin: {}",
        tested.text
    );
}

/// `beacon plugin new` projects build and pass their own tests out of the
/// box, and the install check accepts what they build.
#[test]
fn plugin_new_projects_build_pass_their_tests_and_are_accepted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-scaffold");
    let cargo = |project: &std::path::Path, args: &[&str]| {
        let output = Command::new(env!("CARGO"))
            .args(args)
            .current_dir(project)
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .output()
            .expect("cargo");
        assert!(
            output.status.success(),
            "cargo {args:?} in {}:\n{}",
            project.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    for (name, kind, world) in [
        ("my-hook", "channel", "channel-sender"),
        ("word-filter", "filter", "filter"),
        ("status-adapter", "adapter", "adapter"),
    ] {
        let created = beacon(dir.path())
            .args(["plugin", "new", name, "--kind", kind])
            .output()
            .expect("run");
        assert!(
            created.status.success(),
            "{}",
            String::from_utf8_lossy(&created.stderr)
        );
        let project = dir.path().join(name);
        let tested = cargo(&project, &["test"]);
        assert!(tested.contains("test result: ok"), "{tested}");
        cargo(
            &project,
            &["build", "--release", "--target", "wasm32-wasip2"],
        );
        let wasm = target
            .join("wasm32-wasip2/release")
            .join(format!("{}.wasm", name.replace('-', "_")));
        let checked = beacon(dir.path())
            .arg("plugin")
            .arg("check")
            .arg(&wasm)
            .output()
            .expect("run");
        let stdout = String::from_utf8_lossy(&checked.stdout);
        assert!(
            checked.status.success(),
            "{}",
            String::from_utf8_lossy(&checked.stderr)
        );
        assert!(
            stdout.contains(&format!("beacon:plugin/{world}@0.3.0")),
            "{stdout}"
        );
        if kind == "adapter" {
            let ran = beacon(dir.path())
                .args(["plugin", "run"])
                .arg(&wasm)
                .args([
                    "--config",
                    "{}",
                    "--request",
                    r#"{"service": "db", "status": "down"}"#,
                ])
                .output()
                .expect("run");
            let printed = String::from_utf8_lossy(&ran.stdout);
            assert!(
                ran.status.success(),
                "{}",
                String::from_utf8_lossy(&ran.stderr)
            );
            assert!(printed.contains(r#""priority": 5"#), "{printed}");
        }
    }
    let again = beacon(dir.path())
        .args(["plugin", "new", "my-hook", "--kind", "channel"])
        .output()
        .expect("run");
    assert!(
        !again.status.success(),
        "an existing project is never overwritten"
    );
    let other_language = beacon(dir.path())
        .args([
            "plugin", "new", "x-hook", "--kind", "channel", "--lang", "cobol",
        ])
        .output()
        .expect("run");
    assert!(!other_language.status.success());
    assert!(String::from_utf8_lossy(&other_language.stderr).contains("cannot be scaffolded"));
}

/// Runs `program args` in `dir` and returns its stdout; fails the test with
/// both outputs when it fails.
fn run_in(dir: &std::path::Path, program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|err| {
            panic!("{program} could not run ({err}); scripts/install-test-deps.sh installs it")
        });
    assert!(
        output.status.success(),
        "{program} {args:?} in {}:\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

/// `plugin new --lang js|python`: each project passes its own test with its
/// language's tools, builds with its one documented command into a component
/// the install check accepts, and runs in `beacon plugin run`.
#[test]
fn javascript_and_python_projects_build_pass_their_tests_and_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let languages: Vec<std::thread::JoinHandle<()>> = ["js", "python"]
        .into_iter()
        .map(|lang| {
            // One data directory per language: the threads run side by side.
            let dir = dir.path().join(lang);
            std::thread::spawn(move || {
                std::fs::create_dir_all(&dir).expect("data dir");
                for (kind, world) in [("channel", "channel-sender"), ("filter", "filter")] {
                    let name = format!("{lang}-{kind}-new");
                    let created = beacon(&dir)
                        .args(["plugin", "new", &name, "--kind", kind, "--lang", lang])
                        .output()
                        .expect("run");
                    assert!(
                        created.status.success(),
                        "{}",
                        String::from_utf8_lossy(&created.stderr)
                    );
                    let project = dir.join(&name);
                    if lang == "js" {
                        run_in(&project, "npm", &["install", "--no-audit", "--no-fund"]);
                        let tested = run_in(&project, "npm", &["test"]);
                        assert!(tested.contains("# fail 0"), "{tested}");
                        run_in(&project, "npm", &["run", "build"]);
                    } else {
                        let tested = run_in(
                            &project,
                            "python3",
                            &["-m", "unittest", "discover", "-s", "tests"],
                        );
                        assert!(tested.contains("OK"), "{tested}");
                        run_in(&project, "sh", &["build.sh"]);
                    }
                    let wasm = project
                        .join("dist")
                        .join(format!("{}.wasm", name.replace('-', "_")));
                    let checked = beacon(&dir)
                        .arg("plugin")
                        .arg("check")
                        .arg(&wasm)
                        .output()
                        .expect("run");
                    let stdout = String::from_utf8_lossy(&checked.stdout);
                    assert!(
                        checked.status.success(),
                        "{lang} {kind}: {}",
                        String::from_utf8_lossy(&checked.stderr)
                    );
                    assert!(
                        stdout.contains(&format!("beacon:plugin/{world}@0.3.0")),
                        "{stdout}"
                    );
                    if kind == "filter" {
                        let ran = beacon(&dir)
                            .args(["plugin", "run"])
                            .arg(&wasm)
                            .args([
                                "--config",
                                r#"{"word":"disk"}"#,
                                "--message",
                                r#"{"body":"DISK full"}"#,
                            ])
                            .output()
                            .expect("run");
                        let stdout = String::from_utf8_lossy(&ran.stdout);
                        assert!(
                            ran.status.success(),
                            "{lang}: {}",
                            String::from_utf8_lossy(&ran.stderr)
                        );
                        assert!(stdout.contains(r#""matched":true"#), "{lang}: {stdout}");
                    }
                }
            })
        })
        .collect();
    for language in languages {
        if let Err(panic) = language.join() {
            std::panic::resume_unwind(panic);
        }
    }
}
