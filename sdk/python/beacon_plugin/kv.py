"""Key-value state that outlives a call, in the bucket the host hands to the
current call: the channel's bucket during ``send``, the rule's bucket during
a filter's ``evaluate`` (one per config). ``describe`` and ``validate_config``
have none: calls there raise ``KvError('unavailable', ...)``.

    from beacon_plugin import kv
    if kv.add(f"group:{message.group}", message.id, ttl_seconds=3600):
        ...

Keys are 1-256 bytes of UTF-8, values at most 16 KiB (strings are stored as
UTF-8), at most 10,000 live keys per bucket; TTLs in whole seconds.
Mirrors ``sdk/js/src/kv.js``.
"""

from __future__ import annotations

import contextlib
from typing import Optional, Union

from ._host import Err
from .errors import KvError, wit_case, wit_payload

_current = None  # the borrowed `bucket` resource of the running call

Value = Union[str, bytes, bytearray, memoryview]


@contextlib.contextmanager
def using_bucket(bucket):
    """(SDK wrappers and the test harness) Make ``bucket`` the current one."""
    global _current
    previous = _current
    _current = bucket
    try:
        yield bucket
    finally:
        _current = previous


def _bytes(value: Value) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError("kv values are str or bytes")


def _ttl(ttl_seconds) -> Optional[int]:
    if ttl_seconds is None:
        return None
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, (int, float)) or ttl_seconds != ttl_seconds or ttl_seconds < 0 or ttl_seconds == float("inf"):
        raise TypeError("ttl_seconds must be a non-negative number")
    return min(int(ttl_seconds), 0xFFFFFFFF)


def _call(method: str, *args):
    if _current is None:
        raise KvError("unavailable", "no key-value bucket in this call (only send and evaluate get one)")
    try:
        return getattr(_current, method)(*args)
    except Err as err:
        raise KvError(wit_case(err.value), wit_payload(err.value)) from None


def get(key: str) -> Optional[bytes]:
    """The value of a live key as bytes, or ``None``. A counter reads as its decimal text."""
    value = _call("get", key)
    return None if value is None else bytes(value)


def get_string(key: str) -> Optional[str]:
    """The value of a live key as text (lossy UTF-8), or ``None``."""
    value = _call("get", key)
    return None if value is None else bytes(value).decode("utf-8", errors="replace")


def set(key: str, value: Value, ttl_seconds: Optional[float] = None) -> None:  # noqa: A001 - mirrors the WIT name
    """Set a key (replacing a value or counter). ``ttl_seconds`` None: kept until deleted."""
    _call("set", key, _bytes(value), _ttl(ttl_seconds))


def add(key: str, value: Value, ttl_seconds: Optional[float] = None) -> bool:
    """Set a key only when absent or expired; ``True`` when this call set it. Atomic."""
    return bool(_call("add", key, _bytes(value), _ttl(ttl_seconds)))


def increment(key: str, delta: int = 1, ttl_seconds: Optional[float] = None) -> int:
    """Add ``delta`` (default 1) to a counter and return the new value. An
    absent or expired key starts from 0 with the TTL; a live one keeps its
    expiry (a fixed window opened by the first increment). Atomic."""
    if isinstance(delta, bool) or not isinstance(delta, int):
        raise TypeError("delta must be an int")
    return int(_call("increment", key, delta, _ttl(ttl_seconds)))


def delete(key: str) -> bool:
    """Remove a key; ``True`` when it was there."""
    return bool(_call("delete", key))
