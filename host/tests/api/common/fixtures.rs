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

/// Runs `program args` in `dir` (relative to the workspace root); fails
/// with its output when it fails.
fn run(program: &str, args: &[&str], dir: &str) {
    let output = Command::new(program)
        .args(args)
        .current_dir(workspace_root().join(dir))
        .output()
        .unwrap_or_else(|err| {
            panic!("{program} could not run ({err}); scripts/install-test-deps.sh installs it")
        });
    assert!(
        output.status.success(),
        "{program} {args:?} in {dir} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `npm ci` in the JavaScript SDK, once per test process.
fn js_sdk() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| run("npm", &["ci", "--no-audit", "--no-fund"], "sdk/js"));
}

/// A JavaScript example built from source with npm (`npm ci`, `npm run build`).
fn js_example(dir: &str, file: &str) -> PathBuf {
    js_sdk();
    run("npm", &["ci", "--no-audit", "--no-fund"], dir);
    run("npm", &["run", "build"], dir);
    workspace_root().join(dir).join("dist").join(file)
}

/// A Python example built from source with the Python SDK's build command
/// (its first run installs the pinned componentize-py into sdk/python/.venv).
fn python_example(dir: &str, file: &str) -> PathBuf {
    static SETUP: OnceLock<()> = OnceLock::new();
    SETUP.get_or_init(|| {
        run(
            "sh",
            &["sdk/python/bin/beacon-plugin-build", "--setup"],
            ".",
        )
    });
    let out = format!("dist/{file}");
    run(
        "sh",
        &[
            "../../sdk/python/bin/beacon-plugin-build",
            "src/plugin.py",
            "-o",
            &out,
        ],
        dir,
    );
    workspace_root().join(dir).join(out)
}

/// The JavaScript example channel (`examples/js-channel`, id `js-webhook`).
pub fn js_channel() -> PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| js_example("examples/js-channel", "js_webhook.wasm"))
        .clone()
}

/// The JavaScript example filter (`examples/js-filter`, id `js-keyword`).
pub fn js_filter() -> PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| js_example("examples/js-filter", "js_keyword.wasm"))
        .clone()
}

/// The Python example channel (`examples/python-channel`, id `py-webhook`).
pub fn python_channel() -> PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| python_example("examples/python-channel", "py_webhook.wasm"))
        .clone()
}

/// The Python example filter (`examples/python-filter`, id `py-keyword`).
pub fn python_filter() -> PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| python_example("examples/python-filter", "py_keyword.wasm"))
        .clone()
}
