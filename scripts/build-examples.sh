#!/usr/bin/env bash
# Builds the example plugins in every SDK language from source (what the
# plugin bench's per-language figures and a manual tour need; the test
# suite builds its own copies): Rust (examples/http-post), JavaScript
# (examples/js-channel, examples/js-filter) and Python
# (examples/python-channel, examples/python-filter).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --target wasm32-wasip2 --manifest-path examples/http-post/Cargo.toml \
  --target-dir target/test-http-post
(cd sdk/js && npm ci --no-audit --no-fund)
for example in js-channel js-filter; do
  (cd "examples/$example" && npm ci --no-audit --no-fund && npm run build)
done
for example in python-channel:py_webhook python-filter:py_keyword; do
  (cd "examples/${example%%:*}" &&
    sh ../../sdk/python/bin/beacon-plugin-build src/plugin.py -o "dist/${example#*:}.wasm")
done
ls -l target/test-http-post/wasm32-wasip2/release/http_post.wasm examples/*/dist/*.wasm
