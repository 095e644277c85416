"""Logging over the host's ``log`` import. Lines end up in the host's
structured log, tagged with the plugin id and the call. Never log secrets.

    from beacon_plugin import log
    log.info(f"delivering {message.id}")
    log.log("warn", "something odd")

Parts that are not strings are JSON-encoded (exceptions as their text) and
joined with spaces, as in the JS SDK. ``print`` also works inside a
component (it ends up in the host log as "plugin output"), but prefer this.
"""

from __future__ import annotations

import json

from ._host import LEVELS, host_log


def _text(parts) -> str:
    out = []
    for p in parts:
        if isinstance(p, str):
            out.append(p)
        elif isinstance(p, BaseException):
            out.append(str(p))
        else:
            try:
                out.append(json.dumps(p, separators=(",", ":"), ensure_ascii=False, default=str))
            except (TypeError, ValueError):
                out.append(str(p))
    return " ".join(out)


def log(level: str, *parts) -> None:
    """``log(level, *parts)`` with level ``trace``, ``debug``, ``info``, ``warn`` or ``error``."""
    if level not in LEVELS:
        raise TypeError(f"unknown log level {level!r}")
    host_log(level, _text(parts))


def trace(*parts) -> None:
    host_log("trace", _text(parts))


def debug(*parts) -> None:
    host_log("debug", _text(parts))


def info(*parts) -> None:
    host_log("info", _text(parts))


def warn(*parts) -> None:
    host_log("warn", _text(parts))


def error(*parts) -> None:
    host_log("error", _text(parts))


warning = warn
