"""beacon-plugin-build: Python plugin source -> beacon:plugin component (.wasm).

    python -m beacon_plugin.build src/plugin.py -o dist/my_plugin.wasm \\
        [--wit ../../wit/plugin.wit] [--capability smtp-send] [--keep-temp]

(``sdk/python/bin/beacon-plugin-build`` runs this with the SDK's own
virtualenv, creating it on first use.)

1. Import the plugin module under this (native) CPython, with the SDK's test
   doubles as the host, to find what it exports and uses: ``ChannelApi``
   (define_channel) -> ``channel-api``, ``FilterApi`` (define_filter) ->
   ``filter-api``; ``beacon_plugin.http`` imported -> the ``http``
   capability. So a plugin only gets the capabilities it uses (a world
   import of ``smtp-send`` would make the host refuse the channel when no
   SMTP server is configured). ``--capability`` adds one by hand (for code
   that uses the generated bindings directly).
2. Write a world with exactly those ``beacon:plugin/*`` imports and the
   export, against ``wit/plugin.wit`` of this repository (or a ``wit/``
   folder beside a vendored SDK, ``--wit``, ``BEACON_PLUGIN_WIT``).
3. componentize-py (pinned in requirements-build.txt) builds the component:
   CPython 3.14 and the imported modules, snapshotted after import.
4. CPython's WASI build imports ``wasi:sockets/*`` (the ``socket`` module),
   which the host refuses. The build plugs those imports with a stub
   component whose functions trap (generated with ``wasm-tools component
   embed --dummy``, composed with ``wasm-tools compose``), so the result
   imports no ``wasi:sockets``; Python's ``socket`` module must not be used
   (it traps) - all network goes through ``beacon_plugin.http``.
5. Refuse the result if it imports ``wasi:http`` / ``wasi:sockets`` anyway,
   and print its size and imports.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SDK_DIR = Path(__file__).resolve().parent.parent  # sdk/python
# This repository's wit/ (sdk/python/../../wit), or a vendored copy beside
# the SDK (vendor/beacon-plugin-sdk/../wit), whichever exists.
_WIT_CANDIDATES = (SDK_DIR.parent.parent / "wit" / "plugin.wit", SDK_DIR.parent / "wit" / "plugin.wit")
DEFAULT_WIT = next((p for p in _WIT_CANDIDATES if p.is_file()), _WIT_CANDIDATES[0])

ALLOWED = {
    "channel": {"types", "log", "http", "kv", "smtp-send", "mqtt-publish"},
    "filter": {"types", "log", "kv"},
}
EXPORTS = {"ChannelApi": ("channel", "channel-api"), "FilterApi": ("filter", "filter-api")}

# Run in a child interpreter: import the plugin module natively and report.
_ANALYSE = r"""
import json, sys
sys.path[:0] = json.loads(sys.argv[1])
module_name = sys.argv[2]
import importlib
mod = importlib.import_module(module_name)
found = {}
for attr in ("ChannelApi", "FilterApi"):
    api = getattr(mod, attr, None)
    if api is not None:
        d = getattr(api, "definition", None)
        found[attr] = None if d is None else {"id": d.id, "version": d.version, "kind": d.kind}
print(json.dumps({
    "exports": found,
    "http": "beacon_plugin.http" in sys.modules,
    "sdk": getattr(sys.modules.get("beacon_plugin"), "__file__", None),
}))
"""


class BuildError(Exception):
    pass


def _tool(name: str, env_var: str) -> str:
    """An executable: $ENV_VAR, next to this interpreter (a virtualenv), or on PATH."""
    explicit = os.environ.get(env_var)
    if explicit:
        return explicit
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found:
        return found
    raise BuildError(
        f"{name} is not installed: run `{SDK_DIR / 'bin' / 'beacon-plugin-build'} --setup`, "
        f"or `pip install -r {SDK_DIR / 'requirements-build.txt'}` (or set {env_var})"
    )


def _run(cmd, what: str, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        out = (proc.stderr or "") + (proc.stdout or "")
        # componentize-py prints Rust backtraces; keep the Python part.
        lines = [l for l in out.splitlines() if not re.match(r"^\s+(\d+: |at )", l)]
        raise BuildError(f"{what} failed:\n" + "\n".join(lines[-60:]))
    return proc


def analyse(entry: Path) -> dict:
    paths = [str(entry.parent), str(SDK_DIR)]
    proc = subprocess.run(
        [sys.executable, "-c", _ANALYSE, json.dumps(paths), entry.stem],
        capture_output=True,
        text=True,
        cwd=str(entry.parent),
    )
    if proc.returncode != 0:
        raise BuildError(f"importing {entry} under {sys.executable} failed:\n{proc.stderr.strip()}")
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    exports = info["exports"]
    if len(exports) != 1:
        raise BuildError(
            f"{entry.name} must define exactly one of `ChannelApi` (define_channel) or `FilterApi` (define_filter); "
            f"it defines: {', '.join(exports) or 'neither'}"
        )
    return info


def world_text(version: str, imports, export_iface: str) -> str:
    lines = ["package beacon-spear:py-plugin;", "", "world plugin {"]
    lines += [f"  import beacon:plugin/{i}@{version};" for i in sorted(imports)]
    lines += [f"  export beacon:plugin/{export_iface}@{version};", "}", ""]
    return "\n".join(lines)


def component_imports(wasm_tools: str, path: Path):
    wit = _run([wasm_tools, "component", "wit", str(path)], "wasm-tools component wit").stdout
    world = wit[wit.index("world root {") :]
    world = world[: world.index("\n}\n")]
    return wit, re.findall(r"^\s*import ([^;\s]+);", world, flags=re.M)


def stub_wasi_sockets(wasm_tools: str, component: Path, work: Path) -> Path:
    """Plug the component's ``wasi:sockets/*`` imports with a trapping stub."""
    wit, imports = component_imports(wasm_tools, component)
    sockets = [i for i in imports if i.startswith("wasi:sockets/")]
    if not sockets:
        return component
    # The decoded WIT names every package the component uses; swap its world
    # for one that exports the sockets interfaces.
    start = wit.index("world root {")
    end = wit.index("\n}\n", start) + 3
    stub_world = "world sockets-stub {\n" + "".join(f"  export {s};\n" for s in sockets) + "}\n"
    stub_wit = work / "sockets-stub.wit"
    stub_wit.write_text(wit[:start] + stub_world + wit[end:])
    core = work / "sockets-stub.core.wasm"
    stub = work / "sockets-stub.wasm"
    _run([wasm_tools, "component", "embed", "--dummy", str(stub_wit), "-w", "sockets-stub", "-o", str(core)], "wasm-tools component embed")
    _run([wasm_tools, "component", "new", str(core), "-o", str(stub)], "wasm-tools component new")
    out = work / "composed.wasm"
    _run([wasm_tools, "compose", str(component), "-d", str(stub), "-o", str(out)], "wasm-tools compose")
    return out


def build(entry: Path, out: Path, wit_file: Path, extra_caps, keep_temp: bool) -> None:
    started = time.monotonic()
    if not entry.is_file():
        raise BuildError(f"{entry} does not exist")
    if entry.suffix != ".py":
        raise BuildError(f"{entry} is not a .py file")
    try:
        wit_text = wit_file.read_text()
    except OSError as err:
        raise BuildError(f"cannot read the beacon:plugin WIT at {wit_file} ({err.strerror}); pass --wit <path to wit/plugin.wit>") from None
    m = re.search(r"^\s*package\s+beacon:plugin@([0-9][^;\s]*)\s*;", wit_text, flags=re.M)
    if not m:
        raise BuildError(f"{wit_file} does not declare package beacon:plugin@<version>")
    version = m.group(1)
    componentize = _tool("componentize-py", "COMPONENTIZE_PY")
    wasm_tools = _tool("wasm-tools", "WASM_TOOLS")

    # 1. what the plugin exports and uses
    info = analyse(entry)
    (attr, details), = info["exports"].items()
    kind, export_iface = EXPORTS[attr]
    imports = {"log"}
    if info["http"]:
        imports.add("http")
    for cap in extra_caps:
        imports.add(cap)
    for cap in imports:
        if cap not in ALLOWED[kind]:
            raise BuildError(f"a {kind} plugin may not import beacon:plugin/{cap} (the host refuses it)")

    work = Path(tempfile.mkdtemp(prefix="beacon-plugin-build-"))
    try:
        # 2. world
        wit_dir = work / "wit"
        (wit_dir / "deps" / "beacon-plugin").mkdir(parents=True)
        (wit_dir / "deps" / "beacon-plugin" / "plugin.wit").write_text(wit_text)
        (wit_dir / "world.wit").write_text(world_text(version, imports, export_iface))

        # 3. componentize (no virtualenv site-packages on the module path:
        # only the plugin's folder and the SDK)
        raw = work / "plugin.raw.wasm"
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
        _run(
            [
                componentize, "-q", "-d", str(wit_dir), "-w", "plugin", "componentize", entry.stem,
                "-p", str(entry.parent), "-p", str(SDK_DIR), "-o", str(raw),
            ],
            "componentize-py",
            cwd=str(work),
            env=env,
        )

        # 4. no wasi:sockets
        final = stub_wasi_sockets(wasm_tools, raw, work)
        _run([wasm_tools, "validate", str(final)], "wasm-tools validate")

        # 5. check imports
        _, final_imports = component_imports(wasm_tools, final)
        forbidden = [i for i in final_imports if re.match(r"^wasi:(http|sockets)/", i)]
        if forbidden:
            raise BuildError(f"the component imports {', '.join(forbidden)}, which the host refuses")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(final, out)
    finally:
        if keep_temp:
            print(f"beacon-plugin-build: kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    size = out.stat().st_size
    seconds = time.monotonic() - started
    world = "channel-sender" if kind == "channel" else "filter"
    print(f"{out}: {kind} component {details['id']}@{details['version']}, {size / 1024 / 1024:.1f} MiB, built in {seconds:.1f} s")
    print(f"  world     beacon:plugin {world}@{version} (export {export_iface})")
    print(f"  imports   {', '.join(i for i in final_imports if i.startswith('beacon:'))}")
    print(f"  wasi      {', '.join(re.sub(r'@.*', '', i) for i in final_imports if i.startswith('wasi:'))}")


def setup() -> None:
    """Create sdk/python/.venv with the pinned build tools."""
    venv = SDK_DIR / ".venv"
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"beacon-plugin-build: creating {venv}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    print(f"beacon-plugin-build: installing {SDK_DIR / 'requirements-build.txt'} into {venv}", file=sys.stderr)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(SDK_DIR / "requirements-build.txt")],
        check=True,
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="beacon-plugin-build",
        description="Build a Python Beacon Spear plugin into a WebAssembly component.",
    )
    parser.add_argument("entry", nargs="?", help="the plugin module, e.g. src/plugin.py (defines ChannelApi or FilterApi)")
    parser.add_argument("-o", "--out", help="output .wasm file")
    parser.add_argument("--wit", help="path to wit/plugin.wit (default: $BEACON_PLUGIN_WIT, this repository's, or ../wit beside a vendored SDK)")
    parser.add_argument(
        "--capability",
        action="append",
        default=[],
        choices=["http", "smtp-send", "mqtt-publish"],
        help="import this beacon:plugin interface even though the SDK modules do not (repeatable)",
    )
    parser.add_argument("--keep-temp", action="store_true", help="keep the temporary build folder")
    parser.add_argument("--setup", action="store_true", help="create sdk/python/.venv with the pinned build tools and exit")
    args = parser.parse_args(argv)
    try:
        if args.setup:
            setup()
            return 0
        if not args.entry:
            parser.error("expected the plugin module (e.g. src/plugin.py)")
        if not args.out:
            parser.error("missing -o <out.wasm>")
        wit = Path(args.wit or os.environ.get("BEACON_PLUGIN_WIT") or DEFAULT_WIT).resolve()
        build(Path(args.entry).resolve(), Path(args.out).resolve(), wit, args.capability, args.keep_temp)
        return 0
    except BuildError as err:
        print(f"beacon-plugin-build: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
