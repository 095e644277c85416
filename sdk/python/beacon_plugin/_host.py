"""Where the SDK's host calls go.

Inside a component (CPython built for WASI, ``sys.platform == "wasi"``) they
go to the bindings componentize-py generated for the plugin's world
(``wit_world``, ``componentize_py_types``). Under plain CPython (tests) they go
to the test doubles in ``_native_host`` (driven by ``beacon_plugin.testing``). Everything here is imported
at module level: componentize-py snapshots the interpreter after importing
the app, so imports that happen later are not available in the component.
"""

from __future__ import annotations

import sys

IN_COMPONENT = sys.platform == "wasi"

LEVELS = ("trace", "debug", "info", "warn", "error")

if IN_COMPONENT:  # pragma: no cover - only inside a component
    from componentize_py_types import Err, Ok  # noqa: F401
    from wit_world.imports import log as _wit_log
    from wit_world.imports import types as wit_types  # noqa: F401

    _LEVEL = {
        "trace": _wit_log.Level.TRACE,
        "debug": _wit_log.Level.DEBUG,
        "info": _wit_log.Level.INFO,
        "warn": _wit_log.Level.WARN,
        "error": _wit_log.Level.ERROR,
    }

    def host_log(level: str, message: str) -> None:
        _wit_log.log(_LEVEL[level], message)


else:
    from . import _wit_native as wit_types  # noqa: F401
    from ._wit_native import Err, Ok  # noqa: F401
    from ._native_host import record_log as host_log  # noqa: F401
