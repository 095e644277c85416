//! Test plugins built from source for wasm32-wasip2, once per test process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Builds `manifest` (relative to the workspace root) for wasm32-wasip2 and
/// returns the release output directory.
fn build(manifest: &str, target_dir: &str) -> PathBuf {
    let root = workspace_root();
    let target = root.join("target").join(target_dir);
    let output = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(root.join(manifest))
        .arg("--target-dir")
        .arg(&target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("cargo could not run");
    assert!(
        output.status.success(),
        "building {manifest} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    target.join("wasm32-wasip2").join("release")
}

/// A plugin of the fixture workspace (host/tests/fixtures/hostile), by file name.
pub fn test_plugin(file: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| build("host/tests/fixtures/hostile/Cargo.toml", "test-plugins"))
        .join(file)
}

/// `hostile_filter.wasm` and `hostile_channel.wasm`.
pub fn hostile(name: &str) -> PathBuf {
    test_plugin(&format!("hostile_{name}.wasm"))
}

/// The built-in plugins as the host build produced them.
pub fn builtin(file: &str) -> PathBuf {
    let path = workspace_root()
        .join("target")
        .join("plugins")
        .join("wasm32-wasip2")
        .join("release")
        .join(file);
    assert!(
        path.exists(),
        "{} is missing (the host build makes it)",
        path.display()
    );
    path
}

/// The third-party example plugin, built only against the SDK.
pub fn http_post() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| build("examples/http-post/Cargo.toml", "test-http-post"))
        .join("http_post.wasm")
}

/// The JavaScript example channel (`examples/js-channel`, id `js-webhook`),
/// built from source with npm once per test process (`npm ci` in the SDK
/// and the example, then `npm run build`).
pub fn js_channel() -> PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| {
        let root = workspace_root();
        for (dir, args) in [
            ("sdk/js", &["ci", "--no-audit", "--no-fund"][..]),
            ("examples/js-channel", &["ci", "--no-audit", "--no-fund"][..]),
            ("examples/js-channel", &["run", "build"][..]),
        ] {
            let output = Command::new("npm")
                .args(args)
                .current_dir(root.join(dir))
                .output()
                .expect("npm is required to build the JavaScript example (scripts/install-test-deps.sh)");
            assert!(
                output.status.success(),
                "npm {args:?} in {dir} failed:\n{}\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        root.join("examples/js-channel/dist/js_webhook.wasm")
    })
    .clone()
}
