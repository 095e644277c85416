#!/usr/bin/env bash
# The whole test suite: the host's unit tests and black-box HTTP suite (every
# storage test on SQLite and on a real PostgreSQL server the tests start
# themselves), the plugin SDKs' (Rust, JavaScript, Python) and plugins' unit
# tests, JavaScript and Python plugins built from source and delivering, the dashboard's
# type check, lint and unit tests, and the dashboard's end-to-end tests
# (Chromium against the debug server binary the host tests built).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

echo "== dashboard (type check, lint, unit tests, build)"
(cd dashboard && npm ci --no-audit --no-fund && npm run typecheck && npm run lint && npm test)
# The host's tests serve the built dashboard.
scripts/build-dashboard.sh

echo "== host"
cargo test --workspace --locked

echo "== plugin SDK and plugins (native unit tests)"
for manifest in sdk/Cargo.toml plugins/Cargo.toml examples/http-post/Cargo.toml; do
  if [ -f "$manifest" ]; then
    cargo test --locked --manifest-path "$manifest"
  fi
done

echo "== JavaScript plugin SDK and examples (node --test; the host tests built the components)"
(cd sdk/js && npm ci --no-audit --no-fund && npm test)
for example in js-channel js-filter; do
  (cd "examples/$example" && npm ci --no-audit --no-fund && npm test)
done

echo "== Python plugin SDK and examples (unittest under plain CPython; the host tests built the components)"
(cd sdk/python && python3 -m unittest discover -s tests)
for example in python-channel python-filter; do
  (cd "examples/$example" && python3 -m unittest discover -s tests)
done

echo "== dashboard end-to-end (Chromium against target/debug/beacon)"
scripts/e2e.sh
