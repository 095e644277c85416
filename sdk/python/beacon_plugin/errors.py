"""Error types shared by the SDK: ConfigError, SendError, FetchError, KvError,
and the snippet/JSON helpers that record a response with an attempt.

Mirrors ``sdk/js/src/errors.js`` (and the Rust SDK): the same kinds, the
same messages, the same 1024-character snippet cap.
"""

from __future__ import annotations

import json
from typing import Optional, Union

#: Cap on ``response_snippet``, in characters (the Rust SDK's SNIPPET_MAX_CHARS).
SNIPPET_MAX_CHARS = 1024

Body = Union[bytes, bytearray, memoryview, str, None]


def to_text(body: Body) -> str:
    """Bytes (lossy UTF-8: invalid bytes become U+FFFD) or text as a string."""
    if body is None:
        return ""
    if isinstance(body, str):
        return body
    return bytes(body).decode("utf-8", errors="replace")


def truncate_chars(text: str, limit: int) -> str:
    """Truncate ``text`` to ``limit`` characters (code points), adding ``…`` when cut."""
    return text if len(text) <= limit else text[:limit] + "…"


def snippet(body: Body) -> Optional[str]:
    """The start of a body as text, at most SNIPPET_MAX_CHARS characters (an
    ellipsis marks the cut); ``None`` for an empty body."""
    text = to_text(body)
    return None if text == "" else truncate_chars(text, SNIPPET_MAX_CHARS)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def loads_strict(text: str):
    """``json.loads`` without the NaN/Infinity extensions (as JSON.parse)."""
    return json.loads(text, parse_constant=_reject_constant)


def dumps_compact(value) -> str:
    """Compact JSON text, non-ASCII kept as is (as JSON.stringify)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def response_json(body: Body) -> Optional[str]:
    """The body re-serialised as compact JSON when it parses as JSON; ``None``
    otherwise (including an empty body)."""
    text = to_text(body)
    if text.strip() == "":
        return None
    try:
        return dumps_compact(loads_strict(text))
    except (ValueError, RecursionError):
        return None


class ConfigError(Exception):
    """A config rejected by validation. ``field`` is the JSON path of the
    offending value (``url``, ``headers.Authorization``, ``device_keys[1]``;
    ``""`` for the whole document). Raise it from ``validate``."""

    def __init__(self, field: str, message: str):
        self.field = field or ""
        self.detail = message
        super().__init__(f"{self.field}: {message}" if self.field else message)

    @property
    def message(self) -> str:
        return str(self)

    def __eq__(self, other):  # handy in tests
        return isinstance(other, ConfigError) and (self.field, self.detail) == (other.field, other.detail)

    __hash__ = Exception.__hash__

    def __repr__(self):
        return f"ConfigError({self.field!r}, {self.detail!r})"


def config_error(field: str, message: str) -> ConfigError:
    """Shorthand for ``ConfigError(field, message)``."""
    return ConfigError(field, message)


class SendError(Exception):
    """Why a ``send`` failed: ``retryable`` (the host retries with backoff, at
    least ``retry_after_ms`` later) or ``permanent``. Either way the status,
    response snippet and JSON are recorded with the attempt."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        retry_after_ms: Optional[int] = None,
        http_status: Optional[int] = None,
        response_snippet: Optional[str] = None,
        response_json: Optional[str] = None,
    ):
        if kind not in ("retryable", "permanent"):
            raise TypeError(f"SendError kind must be 'retryable' or 'permanent', got {kind!r}")
        super().__init__(message)
        self.kind = kind
        self.retry_after_ms = retry_after_ms
        self.http_status = http_status
        self.response_snippet = response_snippet
        self.response_json = response_json

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    @classmethod
    def retryable(cls, message: str) -> "SendError":
        """A failure worth retrying later (timeouts, 5xx, 429, ...)."""
        return cls("retryable", message)

    @classmethod
    def permanent(cls, message: str) -> "SendError":
        """A failure retrying will not fix (bad config, most 4xx, bad payload)."""
        return cls("permanent", message)

    @property
    def is_retryable(self) -> bool:
        return self.kind == "retryable"

    def with_status(self, status: int) -> "SendError":
        self.http_status = status
        return self

    def with_snippet(self, text: Body) -> "SendError":
        """Set the snippet from text, capped at SNIPPET_MAX_CHARS (empty clears it)."""
        self.response_snippet = snippet(text)
        return self

    def with_json(self, json_text: Optional[str]) -> "SendError":
        self.response_json = json_text
        return self

    def with_body(self, body: Body) -> "SendError":
        """Snippet and JSON from a response body."""
        self.response_snippet = snippet(body)
        self.response_json = response_json(body)
        return self

    def with_retry_after_ms(self, ms: Optional[int]) -> "SendError":
        """Only meaningful on retryable errors (ignored by the host otherwise)."""
        if self.kind == "retryable" and ms is not None:
            self.retry_after_ms = ms
        return self

    def failure(self) -> dict:
        """The ``send-failure`` fields as a dict (snake_case)."""
        return {
            "message": self.message,
            "retry_after_ms": self.retry_after_ms if self.kind == "retryable" else None,
            "http_status": self.http_status,
            "response_snippet": self.response_snippet,
            "response_json": self.response_json,
        }

    def __repr__(self):
        return f"SendError({self.kind!r}, {self.message!r})"


_FETCH_ERROR_TEXT = {
    "policy-denied": lambda v: f"refused by outbound policy: {v}",
    "timeout": lambda v: "request timed out",
    "connection": lambda v: f"connection error: {v}",
    "body-too-large": lambda v: f"body larger than {v} bytes",
    "invalid-request": lambda v: f"invalid request: {v}",
}


class FetchError(Exception):
    """``fetch`` failed without a response. ``kind`` is the WIT case
    (``policy-denied``, ``timeout``, ``connection``, ``body-too-large``,
    ``invalid-request``). Raised out of ``send``, it becomes a SendError:
    retryable for ``timeout``/``connection``, permanent otherwise."""

    def __init__(self, kind: str, detail=None):
        text = _FETCH_ERROR_TEXT.get(kind)
        super().__init__(text(detail) if text else f"fetch failed: {kind}")
        self.kind = kind
        self.detail = detail

    @property
    def message(self) -> str:
        return str(self)

    @property
    def retryable(self) -> bool:
        return self.kind in ("timeout", "connection")

    def to_send_error(self) -> SendError:
        return SendError("retryable" if self.retryable else "permanent", self.message)


class KvError(Exception):
    """A ``kv`` call failed. ``kind``: ``invalid`` (key/value),
    ``quota-exceeded`` (bucket full), ``unavailable`` (no bucket in this call,
    or the database did not answer)."""

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{'quota exceeded' if kind == 'quota-exceeded' else kind}: {detail}")
        self.kind = kind
        self.detail = detail

    @property
    def message(self) -> str:
        return str(self)


# WIT variant case classes are named `<Variant>_<Case>` by componentize-py
# (e.g. `FetchError_PolicyDenied`); the SDK maps them to kebab-case kinds.
def wit_case(value) -> str:
    """``FetchError_PolicyDenied()`` -> ``policy-denied``."""
    name = type(value).__name__
    case = name.split("_", 1)[1] if "_" in name else name
    out = []
    for i, ch in enumerate(case):
        if ch.isupper() and i:
            out.append("-")
        out.append(ch.lower())
    return "".join(out)


def wit_payload(value):
    """The payload of a WIT variant case (``None`` for cases without one)."""
    return getattr(value, "value", None)
