"""Native stand-ins for the componentize-py bindings (CPython tests only).

Inside a component the SDK uses the generated ``wit_world`` bindings and
``componentize_py_types``; under plain CPython it uses these classes, which
have the same names and fields, so the SDK's adapter code is the same in
both places. Not used inside a component.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Generic, List, Optional, Tuple, TypeVar

T = TypeVar("T")
E = TypeVar("E")


# ---------------------------------------------------------------- componentize_py_types


@dataclass
class Ok(Generic[T]):
    value: T


@dataclass(frozen=True)
class Err(Generic[E], Exception):
    value: E


# ---------------------------------------------------------------- beacon:plugin/types


class PluginKind(Enum):
    CHANNEL = 0
    FILTER = 1


@dataclass
class PluginInfo:
    id: str
    name: str
    version: str
    kind: PluginKind
    description: str
    config_schema: str


@dataclass
class ConfigError:
    field: str
    message: str


@dataclass
class Message:
    id: str
    received_at: str
    title: Optional[str]
    body: str
    group: Optional[str]
    priority: int
    tags: List[str]
    url: Optional[str]
    extras: List[Tuple[str, str]]
    endpoint_id: str
    endpoint_name: str


@dataclass
class SendFailure:
    message: str
    retry_after_ms: Optional[int]
    http_status: Optional[int]
    response_snippet: Optional[str]
    response_json: Optional[str]


@dataclass
class SendError_Retryable:
    value: SendFailure


@dataclass
class SendError_Permanent:
    value: SendFailure


@dataclass
class SendOutcome:
    http_status: Optional[int]
    response_snippet: Optional[str]
    response_json: Optional[str]


@dataclass
class Verdict:
    matched: bool
    note: Optional[str]


# ---------------------------------------------------------------- beacon:plugin/http


@dataclass
class Request:
    method: str
    url: str
    headers: List[Tuple[str, str]]
    body: Optional[bytes]
    timeout_ms: Optional[int]
    follow_redirects: bool


@dataclass
class Response:
    status: int
    headers: List[Tuple[str, str]]
    body: bytes


@dataclass
class FetchError_PolicyDenied:
    value: str


@dataclass
class FetchError_Timeout:
    pass


@dataclass
class FetchError_Connection:
    value: str


@dataclass
class FetchError_BodyTooLarge:
    value: int


@dataclass
class FetchError_InvalidRequest:
    value: str


FETCH_ERRORS = {
    "policy-denied": FetchError_PolicyDenied,
    "timeout": FetchError_Timeout,
    "connection": FetchError_Connection,
    "body-too-large": FetchError_BodyTooLarge,
    "invalid-request": FetchError_InvalidRequest,
}


# ---------------------------------------------------------------- beacon:plugin/kv


@dataclass
class KvError_Invalid:
    value: str


@dataclass
class KvError_QuotaExceeded:
    value: str


@dataclass
class KvError_Unavailable:
    value: str


# ---------------------------------------------------------------- beacon:plugin/log


class Level(Enum):
    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4
