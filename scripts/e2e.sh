#!/usr/bin/env bash
# The dashboard's end-to-end tests: Debian's Chromium (through playwright-core)
# against a real `beacon serve` on a free loopback port, with SQLite in a temp
# data dir, an SMTP server and a Bark-compatible receiver the tests start.
#
# BEACON_BIN picks the server binary (default ${CARGO_TARGET_DIR:-target}/debug/beacon, which
# `cargo test --workspace` builds; a debug server reads dashboard/dist at run
# time, a release server embeds it at compile time). CHROMIUM_PATH overrides
# /usr/bin/chromium. Screenshots go to dashboard/e2e/screenshots/, the server's
# log to dashboard/e2e/logs/beacon.log. Extra arguments go to vitest (e.g. a
# file name filter such as `journey`).
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${BEACON_BIN:-${CARGO_TARGET_DIR:-target}/debug/beacon}"
if [ ! -x "$bin" ]; then
  echo "error: no server binary at $bin; build it (cargo build --bin beacon) or set BEACON_BIN" >&2
  exit 1
fi
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "error: no Chromium at $chromium; run scripts/install-test-deps.sh (apt-get install chromium) or set CHROMIUM_PATH" >&2
  exit 1
fi
# A debug server serves dashboard/dist as it is on disk: rebuild it when the sources are newer.
if [ ! -f dashboard/dist/index.html ] ||
  [ -n "$(cd dashboard && find src public index.html package-lock.json vite.config.ts -newer dist/index.html 2>/dev/null | head -1)" ]; then
  scripts/build-dashboard.sh
fi
cd dashboard
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# The suite stops itself after E2E_MAX_SECONDS; this is the backstop.
BEACON_BIN="$(cd .. && realpath "$bin")" timeout --kill-after=30 "${E2E_TIMEOUT_SECONDS:-1200}" npm run e2e -- "$@"
