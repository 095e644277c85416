#!/usr/bin/env bash
# Builds and starts Beacon Spear on the embedded default: SQLite, mail outbox
# and keys under ./data, the built-in plugins (compiled to wasm32-wasip2 during
# the build), the dashboard (built with npm, embedded in the binary), listening on http://127.0.0.1:8080 unless BEACON_LISTEN says
# otherwise. Extra arguments go to `beacon serve` (e.g. --no-migrate).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  echo "adding the wasm32-wasip2 Rust target (the built-in plugins are compiled to it)"
  rustup target add wasm32-wasip2
fi
scripts/build-dashboard.sh
exec cargo run --release --locked --bin beacon -- serve "$@"
