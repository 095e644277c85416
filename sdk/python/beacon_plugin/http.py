"""HTTP over the host's buffered ``fetch`` (channel senders only). Importing
this module is what gives a component the ``http`` capability: the build
command adds ``beacon:plugin/http`` to the world only when the plugin
imports ``beacon_plugin.http``.

    from beacon_plugin import http
    response = http.post(config.url, json=payload, timeout_ms=10_000)
    return response.into_outcome()  # 2xx ok; 408/425/429/5xx retryable; else permanent

The host enforces the outbound policy (http/https only, no userinfo, no
loopback/private destinations unless allowed, timeout and body caps). A
refusal, timeout or connection error is raised as a FetchError; raised out of
``send`` it becomes a SendError (timeout/connection retryable, the rest
permanent). Mirrors ``sdk/js/src/http.js``.
"""

from __future__ import annotations

from typing import Iterable, List, Mapping, Optional, Tuple, Union

from ._host import IN_COMPONENT, Err
from .errors import (
    Body,
    FetchError,
    SendError,
    dumps_compact,
    loads_strict,
    response_json,
    snippet,
    to_text,
    truncate_chars,
    wit_case,
    wit_payload,
)
from .types import SendOutcome, header_value

if IN_COMPONENT:  # pragma: no cover - only inside a component
    from wit_world.imports import http as _wit_http

    _WitRequest = _wit_http.Request
    _host_fetch = _wit_http.fetch
else:
    from ._native_host import fetch as _host_fetch
    from ._wit_native import Request as _WitRequest

MAX_SAFE_INTEGER = 2**53 - 1
_U32_MAX = 0xFFFFFFFF

Headers = Union[Mapping[str, str], Iterable[Tuple[str, str]], None]


def classify_status(status: int) -> str:
    """2xx ``success``; 408/425/429/5xx ``retryable``; everything else ``permanent``."""
    if 200 <= status <= 299:
        return "success"
    if status in (408, 425, 429) or 500 <= status <= 599:
        return "retryable"
    return "permanent"


def parse_retry_after(value: Optional[str]) -> Optional[int]:
    """A ``Retry-After`` value given as delay-seconds, in milliseconds;
    ``None`` for anything else (HTTP-date values are not supported)."""
    if not isinstance(value, str):
        return None
    v = value.strip()
    if v == "" or not all("0" <= c <= "9" for c in v):
        return None
    return min(int(v) * 1000, MAX_SAFE_INTEGER)


def status_error(cls: str, status: int, body: Body, retry_after_ms: Optional[int] = None) -> SendError:
    """The SendError for a non-2xx answer: ``HTTP <status>: <first 200 chars>``,
    with status, snippet (1024 chars) and JSON; retryable ones carry
    ``retry_after_ms``."""
    text = truncate_chars(to_text(body).strip(), 200)
    message = f"HTTP {status}" if text == "" else f"HTTP {status}: {text}"
    if cls == "retryable":
        error = SendError.retryable(message).with_retry_after_ms(retry_after_ms)
    else:
        error = SendError.permanent(message)
    return error.with_status(status).with_body(body)


def _header_pairs(headers: Headers) -> List[Tuple[str, str]]:
    if not headers:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(n), str(v)) for n, v in items]



class Response:
    """A response from the host: status, lower-case header pairs, body bytes."""

    def __init__(self, status: int, headers: Optional[List[Tuple[str, str]]] = None, body: bytes = b""):
        self.status = status
        self.headers = list(headers or [])
        self.body = bytes(body)

    def __repr__(self):
        return f"Response(status={self.status}, {len(self.body)} bytes)"

    def header(self, name: str) -> Optional[str]:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        return header_value(self.headers, name)

    def text(self) -> str:
        """The body as text (lossy UTF-8)."""
        return to_text(self.body)

    def json(self):
        """The body parsed as JSON (raises ValueError when it is not)."""
        return loads_strict(self.text())

    def status_class(self) -> str:
        """``success``, ``retryable`` or ``permanent``; see classify_status."""
        return classify_status(self.status)

    def retry_after_ms(self) -> Optional[int]:
        """``Retry-After`` in milliseconds, when given as delay-seconds."""
        return parse_retry_after(self.header("retry-after"))

    def outcome(self) -> SendOutcome:
        """Status, capped snippet and parsed JSON: the WIT ``send-outcome``."""
        return SendOutcome(self.status, snippet(self.body), response_json(self.body))

    def error_for_status(self) -> "Response":
        """Returns this response for 2xx; raises the matching SendError otherwise."""
        cls = self.status_class()
        if cls == "success":
            return self
        raise status_error(cls, self.status, self.body, self.retry_after_ms())

    def into_outcome(self) -> SendOutcome:
        """error_for_status() then outcome(): the usual end of a ``send``."""
        return self.error_for_status().outcome()


def request(
    method: str = "GET",
    url: str = "",
    *,
    headers: Headers = None,
    body: Union[str, bytes, bytearray, None] = None,
    json=None,
    timeout_ms: Optional[float] = None,
    follow_redirects: bool = False,
) -> Response:
    """Perform one request through the host and return a Response (any
    status). Raises FetchError when no response arrived. ``json=`` sends
    compact JSON (and ``content-type: application/json`` unless given);
    ``timeout_ms`` is capped by the host."""
    pairs = _header_pairs(headers)
    if json is not None:
        if body is not None:
            raise TypeError("give either body or json, not both")
        body = dumps_compact(json)
        if not any(n.lower() == "content-type" for n, _ in pairs):
            pairs.append(("content-type", "application/json"))
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif body is not None:
        body = bytes(body)
    timeout = None if timeout_ms is None else min(max(0, int(timeout_ms)), _U32_MAX)
    wit_request = _WitRequest(
        method=(method or "GET").upper(),
        url=url,
        headers=pairs,
        body=body,
        timeout_ms=timeout,
        follow_redirects=bool(follow_redirects),
    )
    try:
        answer = _host_fetch(wit_request)
    except Err as err:
        raise FetchError(wit_case(err.value), wit_payload(err.value)) from None
    return Response(answer.status, list(answer.headers), bytes(answer.body))


def get(url: str, **opts) -> Response:
    return request("GET", url, **opts)


def post(url: str, **opts) -> Response:
    return request("POST", url, **opts)


def put(url: str, **opts) -> Response:
    return request("PUT", url, **opts)


def patch(url: str, **opts) -> Response:
    return request("PATCH", url, **opts)


def delete(url: str, **opts) -> Response:
    return request("DELETE", url, **opts)


__all__ = [
    "FetchError",
    "Response",
    "SendError",
    "SendOutcome",
    "classify_status",
    "delete",
    "get",
    "parse_retry_after",
    "patch",
    "post",
    "put",
    "request",
    "status_error",
]
