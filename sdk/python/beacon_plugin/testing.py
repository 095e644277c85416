"""Test harness: run a plugin's exports under plain CPython (``unittest``,
pytest, ...), without building a component. Outside a component the SDK's
host calls go to test doubles: ``fetch`` answers from :func:`mock_fetch`'s
handler, ``log`` records lines, and ``kv`` buckets live in memory.

    import unittest
    from beacon_plugin import testing
    from plugin import ChannelApi

    class T(unittest.TestCase):
        def setUp(self):
            testing.reset()

        def test_retries_a_503(self):
            testing.mock_fetch(lambda req: testing.response(503, "", {"retry-after": "5"}))
            r = testing.send(ChannelApi, config={"url": "https://example.com/x"}, payload={"a": 1})
            self.assertEqual(r["error"]["kind"], "retryable")
            self.assertEqual(r["error"]["retry_after_ms"], 5000)

Mirrors ``sdk/js/src/testing`` (results are dicts with snake_case keys).
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import json as _json
import time
from typing import Any, Callable, Dict, List, Optional

from . import _wit_native as wit
from ._host import IN_COMPONENT
from ._native_host import state
from .types import header_value
from .errors import dumps_compact, loads_strict

if IN_COMPONENT:  # pragma: no cover
    raise ImportError("beacon_plugin.testing runs under plain CPython only, not inside a component")

Err = wit.Err

# ---------------------------------------------------------------- fetch


class RequestView:
    """A request as the mock handler and :func:`requests` see it."""

    def __init__(self, req: wit.Request):
        self.method = req.method
        self.url = req.url
        self.headers = list(req.headers)
        self.body = req.body
        self.timeout_ms = req.timeout_ms
        self.follow_redirects = req.follow_redirects

    def __repr__(self):
        return f"RequestView({self.method} {self.url})"

    def header(self, name: str) -> Optional[str]:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        return header_value(self.headers, name)

    @property
    def text(self) -> Optional[str]:
        return None if self.body is None else bytes(self.body).decode("utf-8", errors="replace")

    def json(self):
        return loads_strict(bytes(self.body or b"").decode("utf-8"))


@dataclasses.dataclass
class MockResponse:
    status: int
    body: Any = ""
    headers: Any = None


def response(status: int, body: Any = "", headers: Any = None) -> MockResponse:
    """A mock response: body as str, bytes or a JSON-able value (dict, list,
    ...); headers as a dict or a list of pairs."""
    return MockResponse(status, body, headers)


def _to_wit_response(res) -> wit.Response:
    if not isinstance(res, MockResponse):
        raise TypeError("a mock_fetch handler must return testing.response(status, body, headers)")
    headers = res.headers or {}
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers)
    body = res.body
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode("utf-8")
    elif isinstance(body, (bytes, bytearray, memoryview)):
        body = bytes(body)
    else:
        body = dumps_compact(body).encode("utf-8")
    return wit.Response(res.status, [(str(n).lower(), str(v)) for n, v in pairs], body)


def mock_fetch(handler: Callable[[RequestView], MockResponse]) -> None:
    """Answer every ``fetch`` with ``handler(request)``. Return
    :func:`response`, or raise :func:`fetch_error`."""
    state.fetch_handler = lambda req: _to_wit_response(handler(RequestView(req)))


def fetch_error(kind: str, detail: Any = None) -> Exception:
    """A fetch failure to raise from a mock_fetch handler: ``policy-denied``,
    ``timeout``, ``connection``, ``body-too-large``, ``invalid-request``."""
    case = wit.FETCH_ERRORS.get(kind)
    if case is None:
        raise ValueError(f"unknown fetch error kind {kind!r}")
    if kind == "timeout":
        return Err(case())
    if kind == "body-too-large":
        return Err(case(int(detail or 0)))
    return Err(case("" if detail is None else str(detail)))


def requests() -> List[RequestView]:
    """Requests made since the last reset(), oldest first."""
    return [RequestView(r) for r in state.requests]


# ---------------------------------------------------------------- log


def take_logs() -> List[Dict[str, str]]:
    """Log lines (``{"level", "message"}``) since the last call, and forget them."""
    logs, state.logs = state.logs, []
    return logs


# ---------------------------------------------------------------- kv

MAX_KEY_BYTES = 256
MAX_VALUE_BYTES = 16 * 1024
MAX_KEYS = 10_000
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


def _now_ms() -> float:
    return time.time() * 1000 + state.clock_offset_ms


class MockBucket:
    """An in-memory ``bucket`` with the host's rules (key/value sizes, TTLs,
    counters, quota). Errors are raised as ``Err(KvError_...)``, as the
    bindings do."""

    def __init__(self):
        self.entries: Dict[str, dict] = {}

    def _live(self, key):
        entry = self.entries.get(key)
        if entry is not None and entry["expires_at"] is not None and entry["expires_at"] <= _now_ms():
            del self.entries[key]
            return None
        return entry

    def _check_key(self, key):
        size = len(key.encode("utf-8"))
        if size < 1 or size > MAX_KEY_BYTES:
            raise Err(wit.KvError_Invalid(f"key must be 1-{MAX_KEY_BYTES} bytes, got {size}"))

    def _check_value(self, value):
        if len(value) > MAX_VALUE_BYTES:
            raise Err(wit.KvError_Invalid(f"value must be at most {MAX_VALUE_BYTES} bytes, got {len(value)}"))

    def _check_room(self, key):
        if self._live(key) is not None or len(self.entries) < MAX_KEYS:
            return
        for k in list(self.entries):
            self._live(k)
        if len(self.entries) >= MAX_KEYS:
            raise Err(wit.KvError_QuotaExceeded(f"bucket holds {MAX_KEYS} live keys"))

    @staticmethod
    def _expiry(ttl_seconds):
        return None if ttl_seconds is None else _now_ms() + ttl_seconds * 1000

    def get(self, key: str) -> Optional[bytes]:
        self._check_key(key)
        entry = self._live(key)
        if entry is None:
            return None
        if entry.get("counter") is not None:
            return str(entry["counter"]).encode()
        return bytes(entry["value"])

    def set(self, key: str, value: bytes, ttl_seconds: Optional[int]) -> None:
        self._check_key(key)
        self._check_value(value)
        self._check_room(key)
        self.entries[key] = {"value": bytes(value), "expires_at": self._expiry(ttl_seconds)}

    def add(self, key: str, value: bytes, ttl_seconds: Optional[int]) -> bool:
        self._check_key(key)
        self._check_value(value)
        if self._live(key) is not None:
            return False
        self._check_room(key)
        self.entries[key] = {"value": bytes(value), "expires_at": self._expiry(ttl_seconds)}
        return True

    def increment(self, key: str, delta: int, ttl_seconds: Optional[int]) -> int:
        self._check_key(key)
        entry = self._live(key)
        if entry is None:
            self._check_room(key)
            self.entries[key] = {"counter": delta, "expires_at": self._expiry(ttl_seconds)}
            return delta
        current = entry.get("counter")
        if current is None:
            text = entry["value"].decode("utf-8", errors="replace").strip()
            try:
                current = int(text, 10)
            except ValueError:
                raise Err(wit.KvError_Invalid(f"key {key} does not hold a counter")) from None
        value = current + delta
        value = (value - _I64_MIN) % 2**64 + _I64_MIN  # wraps like the JS harness (BigInt.asIntN(64))
        entry["counter"] = value
        entry.pop("value", None)
        return value

    def delete(self, key: str) -> bool:
        self._check_key(key)
        had = self._live(key) is not None
        self.entries.pop(key, None)
        return had


def bucket(name: Optional[str] = None) -> MockBucket:
    """The in-memory bucket of scope ``name`` (default: the current scope)."""
    name = state.kv_scope if name is None else name
    if name not in state.buckets:
        state.buckets[name] = MockBucket()
    return state.buckets[name]


def set_kv_scope(name: str) -> None:
    """Switch the bucket ``send`` / ``evaluate`` get (like a different channel or rule)."""
    state.kv_scope = name


def advance_kv_clock(ms: float) -> None:
    """Age every key by ``ms`` milliseconds (TTLs expire)."""
    state.clock_offset_ms += ms


def reset() -> None:
    """Forget mock fetch handler, requests, logs, buckets, scope and clock."""
    state.reset()


# ---------------------------------------------------------------- calls

_counter = itertools.count(1)


def _hex_id() -> str:
    return (format(int(time.time() * 1000), "x") + format(next(_counter), "x")).rjust(32, "0")[-32:]


def message(**overrides) -> wit.Message:
    """A complete WIT ``message`` with defaults (body "Test message",
    priority 3, no title/group/url, empty tags/extras). ``extras`` may be a
    dict."""
    received = datetime.datetime.fromtimestamp(_now_ms() / 1000, tz=datetime.timezone.utc)
    fields = {
        "id": _hex_id(),
        "received_at": received.strftime("%Y-%m-%dT%H:%M:%S.") + f"{received.microsecond // 1000:03d}Z",
        "title": None,
        "body": "Test message",
        "group": None,
        "priority": 3,
        "tags": [],
        "url": None,
        "extras": [],
        "endpoint_id": "e" * 32,
        "endpoint_name": "test",
    }
    unknown = set(overrides) - set(fields)
    if unknown:
        raise TypeError(f"unknown message fields: {', '.join(sorted(unknown))}")
    fields.update(overrides)
    extras = fields["extras"]
    fields["extras"] = list(extras.items()) if isinstance(extras, dict) else [tuple(p) for p in extras]
    fields["tags"] = list(fields["tags"])
    return wit.Message(**fields)


_build_message = message


def _json_text(value, fallback: str) -> str:
    if value is None:
        return fallback
    if isinstance(value, str):
        return value
    return dumps_compact(value)


def _instance(api):
    return api() if isinstance(api, type) else api


def _payload(err: Exception):
    if isinstance(err, Err):
        return err.value
    raise err  # the export itself broke: a trap in a component


def describe(api) -> Dict[str, Any]:
    """``describe()`` as a dict (``kind`` as ``channel``/``filter``), with
    ``schema`` (the parsed config schema) added."""
    info = _instance(api).describe()
    return {
        "id": info.id,
        "name": info.name,
        "version": info.version,
        "kind": info.kind.name.lower(),
        "description": info.description,
        "config_schema": info.config_schema,
        "schema": _json.loads(info.config_schema),
    }


def validate_config(api, config: Any = None) -> Optional[Dict[str, str]]:
    """``validate_config`` with a config dict (or JSON text): ``None`` when
    accepted, else the WIT ``config-error`` as ``{"field", "message"}``."""
    try:
        _instance(api).validate_config(_json_text(config, "{}"))
        return None
    except Exception as err:  # noqa: BLE001
        p = _payload(err)
        return {"field": p.field, "message": p.message}


def send(api, *, config: Any = None, payload: Any = None, message: Optional[dict] = None) -> Dict[str, Any]:
    """``send`` as the host calls it. ``config`` and ``payload`` are dicts or
    JSON text (payload default ``{}``); ``message`` is a dict of overrides for
    :func:`message`. Returns ``{"ok": True, "outcome": {...}}`` or
    ``{"ok": False, "error": {"kind", "message", "retry_after_ms",
    "http_status", "response_snippet", "response_json"}}``."""
    msg = _build_message(**(message or {}))
    state.fetch_allowed = True
    try:
        outcome = _instance(api).send(_json_text(config, "{}"), _json_text(payload, "{}"), msg, bucket())
        return {"ok": True, "outcome": dataclasses.asdict(outcome)}
    except Exception as err:  # noqa: BLE001
        variant = _payload(err)
        kind = "retryable" if type(variant).__name__.endswith("Retryable") else "permanent"
        return {"ok": False, "error": {"kind": kind, **dataclasses.asdict(variant.value)}}
    finally:
        state.fetch_allowed = False


def evaluate(api, configs: List[Any], message: Optional[dict] = None, *, scopes: Optional[List[str]] = None) -> List[Dict[str, Any]]:
    """``evaluate`` as the host calls it, with one config per rule (dicts or
    JSON text). Rule *i* gets the bucket of ``scopes[i]`` (default: the
    current scope). Returns one ``{"ok": True, "matched", "note"}`` or
    ``{"ok": False, "error"}`` per config."""
    msg = _build_message(**(message or {}))
    states = [bucket(scopes[i] if scopes and i < len(scopes) else None) for i in range(len(configs))]
    results = _instance(api).evaluate([_json_text(c, "{}") for c in configs], states, msg)
    out = []
    for r in results:
        if isinstance(r, wit.Ok):
            out.append({"ok": True, "matched": r.value.matched, "note": r.value.note})
        else:
            out.append({"ok": False, "error": r.value})
    return out
