#!/usr/bin/env bash
# Build the first-party plugins (and the example http-post plugin) as
# WebAssembly components and check that each output really is a component.
#
#   plugins/build.sh            # build all
#   WASM_TOOLS=/path/to/wasm-tools plugins/build.sh
#
# Outputs:
#   plugins/target/wasm32-wasip2/release/{bark,ntfy,gotify,webhook,slack,discord,telegram,email,mqtt}.wasm
#   plugins/target/wasm32-wasip2/release/{standard_filter,quiet_hours,dedupe,rate_limit}.wasm
#   plugins/target/wasm32-wasip2/release/{alertmanager,github,json_map}.wasm
#   examples/http-post/target/wasm32-wasip2/release/http_post.wasm
#
# When `wasm-tools` (1.254.x, matching wasmtime 48) is on PATH or named by
# $WASM_TOOLS, each file is validated and its WIT world printed; otherwise
# only the component header (\0asm, version 0x0d 0x00, layer 0x01 0x00) is
# checked.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
target=wasm32-wasip2

if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    echo "installing the $target target" >&2
    rustup target add "$target"
fi

wasm_tools="${WASM_TOOLS:-$(command -v wasm-tools || true)}"

check_component() {
    local file="$1" expect_export="$2" forbid_import="${3:-}"
    [[ -f "$file" ]] || { echo "missing output: $file" >&2; return 1; }
    local header
    header="$(od -An -tx1 -N8 "$file" | tr -d ' \n')"
    if [[ "$header" != "0061736d0d000100" ]]; then
        echo "$file is not a WebAssembly component (header $header)" >&2
        return 1
    fi
    if [[ -n "$wasm_tools" ]]; then
        "$wasm_tools" validate --features component-model "$file"
        local wit
        wit="$("$wasm_tools" component wit "$file")"
        if ! grep -q "export beacon:plugin/$expect_export@" <<<"$wit"; then
            echo "$file does not export beacon:plugin/$expect_export" >&2
            return 1
        fi
        if [[ -n "$forbid_import" ]] && grep -q "import beacon:plugin/$forbid_import@" <<<"$wit"; then
            echo "$file imports beacon:plugin/$forbid_import, which its kind is not granted" >&2
            return 1
        fi
    fi
    printf '%-70s %8d bytes  ok\n' "${file#"$root"/}" "$(stat -c %s "$file")"
}

echo "== building plugins/ (every member of the workspace)"
(cd "$here" && cargo build --release --target "$target")

echo "== building examples/http-post"
(cd "$root/examples/http-post" && cargo build --release --target "$target")

echo "== checking components${wasm_tools:+ with $wasm_tools}"
out="$here/target/$target/release"
for channel in bark ntfy gotify webhook slack discord telegram email mqtt; do
    check_component "$out/$channel.wasm" channel-api
done
for filter in standard_filter quiet_hours dedupe rate_limit; do
    check_component "$out/$filter.wasm" filter-api http
done
for adapter in alertmanager github json_map; do
    check_component "$out/$adapter.wasm" adapter-api http
done
check_component "$root/examples/http-post/target/$target/release/http_post.wasm" channel-api
