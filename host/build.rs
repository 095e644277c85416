//! Builds the first-party plugins (plugins/) for wasm32-wasip2 so the host can
//! embed them: the normal `cargo build` of the host produces a complete binary.
//! A separate target directory keeps the nested build out of the host's lock.

use std::env;
use std::path::PathBuf;
use std::process::Command;

const PLUGINS: [(&str, &str); 13] = [
    ("BARK", "bark.wasm"),
    ("STANDARD_FILTER", "standard_filter.wasm"),
    ("NTFY", "ntfy.wasm"),
    ("GOTIFY", "gotify.wasm"),
    ("WEBHOOK", "webhook.wasm"),
    ("SLACK", "slack.wasm"),
    ("DISCORD", "discord.wasm"),
    ("TELEGRAM", "telegram.wasm"),
    ("QUIET_HOURS", "quiet_hours.wasm"),
    ("DEDUPE", "dedupe.wasm"),
    ("RATE_LIMIT", "rate_limit.wasm"),
    ("EMAIL", "email.wasm"),
    ("MQTT", "mqtt.wasm"),
];

fn main() {
    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .expect("host/ sits in the workspace root")
        .to_path_buf();
    for watched in [
        "plugins/Cargo.toml",
        "plugins/Cargo.lock",
        "plugins/bark",
        "plugins/standard-filter",
        "plugins/ntfy",
        "plugins/gotify",
        "plugins/webhook",
        "plugins/slack",
        "plugins/discord",
        "plugins/telegram",
        "plugins/quiet-hours",
        "plugins/dedupe",
        "plugins/rate-limit",
        "plugins/email",
        "plugins/mqtt",
        "sdk/src",
        "sdk/Cargo.toml",
        "wit",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    stamp_dashboard(&root);
    // An already built set (e.g. `plugins/build.sh` output) can be named
    // instead of building here again.
    println!("cargo:rerun-if-env-changed=BEACON_PREBUILT_PLUGINS");
    if let Ok(prebuilt) = env::var("BEACON_PREBUILT_PLUGINS") {
        emit(&PathBuf::from(prebuilt));
        return;
    }
    let target_dir = root.join("target").join("plugins");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(root.join("plugins").join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        // The host's flags and target settings must not leak into the wasm build.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .status();
    match status {
        Ok(status) if status.success() => {}
        other => panic!(
            "building the built-in plugins for wasm32-wasip2 failed ({other:?}); \
             is the target installed? run: rustup target add wasm32-wasip2"
        ),
    }
    emit(&target_dir.join("wasm32-wasip2").join("release"));
}

/// Points the host at each built-in component in `dir`.
fn emit(dir: &std::path::Path) {
    for (name, file) in PLUGINS {
        let path = dir.join(file);
        assert!(
            path.exists(),
            "expected {} after the plugin build",
            path.display()
        );
        println!("cargo:rerun-if-changed={}", path.display());
        println!("cargo:rustc-env=BEACON_BUILTIN_{name}={}", path.display());
    }
}

/// The dashboard (dashboard/dist, built by `npm run build`) is embedded by
/// rust-embed at compile time in release builds. A stamp of its files makes a
/// rebuilt dashboard recompile the host even when only new files appeared.
fn stamp_dashboard(root: &std::path::Path) {
    let dist = root.join("dashboard").join("dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut stamp = (0u64, 0u128);
    let mut pending = vec![dist];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
                let nanos = modified
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or_default();
                stamp = (stamp.0 + 1, stamp.1.max(nanos));
            }
        }
    }
    println!(
        "cargo:rustc-env=BEACON_DASHBOARD_STAMP={}-{}",
        stamp.0, stamp.1
    );
}
