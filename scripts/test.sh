#!/usr/bin/env bash
# The whole test suite: unit tests and the black-box HTTP suite, every storage
# test on SQLite and on a real PostgreSQL server that the tests start themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh
cargo test --workspace --locked
