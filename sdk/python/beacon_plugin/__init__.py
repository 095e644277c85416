"""beacon_plugin — the Python SDK for Beacon Spear plugins.

Core (every world): define_channel, define_filter, Verdict, config helpers,
errors, log and kv. HTTP lives in ``beacon_plugin.http`` so that only
plugins that import it get the ``http`` capability. See ../README.md.
"""

from . import kv, log
from .config import check_http_url, conform, field, join_path, parse_config, schema_for, secret
from .errors import (
    SNIPPET_MAX_CHARS,
    ConfigError,
    FetchError,
    KvError,
    SendError,
    config_error,
    response_json,
    snippet,
)
from .plugin import define_channel, define_filter
from .types import Message, SendOutcome, Verdict

__version__ = "0.1.0"

__all__ = [
    "SNIPPET_MAX_CHARS",
    "ConfigError",
    "FetchError",
    "KvError",
    "Message",
    "SendError",
    "SendOutcome",
    "Verdict",
    "check_http_url",
    "config_error",
    "conform",
    "define_channel",
    "define_filter",
    "field",
    "join_path",
    "kv",
    "log",
    "parse_config",
    "response_json",
    "schema_for",
    "secret",
    "snippet",
]
