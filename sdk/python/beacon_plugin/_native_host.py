"""Shared state of the CPython test doubles (see ``beacon_plugin.testing``).
Not used inside a component."""

from __future__ import annotations

import os
import sys

from ._wit_native import Err, FetchError_PolicyDenied


class _State:
    def __init__(self):
        self.echo_logs = bool(os.environ.get("BEACON_TEST_LOG"))
        self.reset()

    def reset(self):
        self.logs = []
        self.requests = []
        self.fetch_handler = None
        self.fetch_allowed = False
        self.buckets = {}
        self.kv_scope = "default"
        self.clock_offset_ms = 0


state = _State()


def record_log(level: str, message: str) -> None:
    """The host ``log`` import: records lines for ``testing.take_logs()``."""
    state.logs.append({"level": level, "message": message})
    if state.echo_logs:
        sys.stderr.write(f"[{level}] {message}\n")


def fetch(request):
    """The host ``fetch`` import: answers from the handler set with
    ``testing.mock_fetch``; errors are raised as ``Err(FetchError_...)``, as
    the bindings do."""
    state.requests.append(request)
    if not state.fetch_allowed:
        raise Err(FetchError_PolicyDenied("network is not available in describe or validate-config"))
    if state.fetch_handler is None:
        raise Err(FetchError_PolicyDenied("no mock fetch handler (call testing.mock_fetch(handler) first)"))
    return state.fetch_handler(request)
