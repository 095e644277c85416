"""define_channel / define_filter: turn a plain plugin definition into the
class a ``beacon:plugin@0.3.0`` world exports (``channel-api`` or
``filter-api``: describe, validate_config, send / evaluate).

    ChannelApi = define_channel(id=..., name=..., version=..., description=...,
                                config=Config, validate=validate, send=send)
    FilterApi = define_filter(..., evaluate=evaluate)

The name matters: componentize-py binds the ``channel-api`` interface to the
app module's attribute ``ChannelApi`` and ``filter-api`` to ``FilterApi``
(it calls it once with no arguments and calls the methods on the result).
Mirrors ``sdk/js/src/plugin.js``.
"""

from __future__ import annotations

import re
import traceback
from typing import Any, Callable, Optional

from . import kv as _kv
from . import log
from ._host import Err, Ok, wit_types
from .config import _is_dataclass_type, check_schema, conform, from_dict, schema_for, schema_text
from .errors import ConfigError, FetchError, KvError, SendError, loads_strict
from .types import Message, SendOutcome, Verdict

_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$", re.ASCII
)

# Exceptions that look like bugs in the plugin rather than a decision: their
# traceback is logged at `error` (the user sees only the message).
_BUGS = (TypeError, NameError, AttributeError, LookupError, AssertionError, ArithmeticError, RecursionError)


class _Definition:
    def __init__(self, kind, fn_name, id, name, version, description, config, validate, fn):
        label = "define_channel" if kind == "channel" else "define_filter"
        if not isinstance(id, str) or not _ID.match(id):
            raise TypeError(f"{label}: id must be lowercase ASCII letters, digits and '-', got {id!r}")
        if not isinstance(version, str) or not _SEMVER.match(version):
            raise TypeError(f"{label}: version must be a semver string such as 1.2.0, got {version!r}")
        for key, value in (("name", name), ("description", description)):
            if not isinstance(value, str) or value.strip() == "":
                raise TypeError(f"{label}: {key} must be a non-empty string")
        if not callable(fn):
            raise TypeError(f"{label}: {fn_name} must be a function")
        if validate is not None and not callable(validate):
            raise TypeError(f"{label}: validate must be a function")
        if config is None:
            self.config_class = None
            self.schema = {"type": "object"}
        elif _is_dataclass_type(config):
            self.config_class = config
            self.schema = schema_for(config)
        elif isinstance(config, dict):
            self.config_class = None
            self.schema = config
        else:
            raise TypeError(f"{label}: config must be a dataclass or a JSON Schema dict, got {config!r}")
        check_schema(self.schema)
        self.kind = kind
        self.id = id
        self.name = name
        self.version = version
        self.description = description
        self.validate = validate
        self.fn = fn
        self.schema_json = schema_text(self.schema)

    def parse(self, config_json: str):
        """Schema check (+ defaults), then the dataclass; no `validate`."""
        try:
            value = loads_strict(config_json)
        except (ValueError, RecursionError) as err:
            raise ConfigError("", f"config is not valid JSON: {err}") from None
        value = conform(value, self.schema)
        if self.config_class is not None:
            try:
                value = from_dict(self.config_class, value)
            except ConfigError:
                raise
            except Exception as err:  # noqa: BLE001 - e.g. a __post_init__ check
                raise ConfigError("", f"config rejected: {_error_text(err)}") from None
        return value

    def info(self):
        kind = wit_types.PluginKind.CHANNEL if self.kind == "channel" else wit_types.PluginKind.FILTER
        return wit_types.PluginInfo(
            id=self.id,
            name=self.name,
            version=self.version,
            kind=kind,
            description=self.description,
            config_schema=self.schema_json,
        )


def _error_text(err: BaseException) -> str:
    text = str(err)
    if isinstance(err, KeyError) and err.args:
        text = repr(err.args[0])
    return text or type(err).__name__


def _describe_thrown(err: BaseException) -> str:
    return "".join(traceback.format_exception(type(err), err, err.__traceback__)).rstrip()


def _to_config_error(err: BaseException) -> ConfigError:
    if isinstance(err, ConfigError):
        return err
    log.error(f"validate raised {_describe_thrown(err)}")
    return ConfigError("", f"config rejected: {_error_text(err)}")


def _u16(n):
    return n if isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 0xFFFF else None


def _u64(n):
    if isinstance(n, bool) or not isinstance(n, (int, float)) or n != n or n < 0 or n == float("inf"):
        return None
    return min(int(n), 2**64 - 1)


def _opt_text(s):
    return s if isinstance(s, str) else None


def to_send_error(err: BaseException):
    """Any raised exception -> the WIT ``send-error`` value."""
    if isinstance(err, SendError):
        error = err
    elif isinstance(err, FetchError):
        error = err.to_send_error()
    elif isinstance(err, ConfigError):
        error = SendError.permanent(f"invalid channel config: {err}")
    elif isinstance(err, KvError):
        error = SendError("retryable" if err.kind == "unavailable" else "permanent", f"state: {err}")
    else:
        log.error(f"send raised {_describe_thrown(err)}")
        error = SendError.permanent(f"plugin error: {type(err).__name__}: {_error_text(err)}")
    f = error.failure()
    failure = wit_types.SendFailure(
        message=str(f["message"]),
        retry_after_ms=_u64(f["retry_after_ms"]),
        http_status=_u16(f["http_status"]),
        response_snippet=_opt_text(f["response_snippet"]),
        response_json=_opt_text(f["response_json"]),
    )
    if error.kind == "retryable":
        return wit_types.SendError_Retryable(failure)
    return wit_types.SendError_Permanent(failure)


def _to_outcome(result):
    """What ``send`` returned -> WIT ``send-outcome``."""
    if result is None:
        return wit_types.SendOutcome(None, None, None)
    if hasattr(result, "into_outcome"):  # an http.Response
        result = result.into_outcome()
    if isinstance(result, dict):
        result = SendOutcome(**{k: result.get(k) for k in ("http_status", "response_snippet", "response_json")})
    if not isinstance(result, (SendOutcome, wit_types.SendOutcome)):
        raise TypeError(f"send must return None, an http.Response or a SendOutcome, got {result!r}")
    return wit_types.SendOutcome(
        http_status=_u16(result.http_status),
        response_snippet=_opt_text(result.response_snippet),
        response_json=_opt_text(result.response_json),
    )


def _to_verdict(result):
    if isinstance(result, bool):
        return wit_types.Verdict(result, None)
    if isinstance(result, (Verdict, wit_types.Verdict)) and isinstance(result.matched, bool):
        return wit_types.Verdict(result.matched, _opt_text(result.note))
    if isinstance(result, dict) and isinstance(result.get("matched"), bool):
        return wit_types.Verdict(result["matched"], _opt_text(result.get("note")))
    raise TypeError(f"evaluate must return a bool or a Verdict, got {result!r}")


def define_channel(
    *,
    id: str,
    name: str,
    version: str,
    description: str,
    send: Callable[[Any, str, Message], Any],
    config=None,
    validate: Optional[Callable[[Any], None]] = None,
):
    """Define a channel sender (world ``channel-sender``). Assign the result
    to ``ChannelApi`` in the plugin module.

    - ``config``: a dataclass (see ``beacon_plugin.config.field``) or a JSON
      Schema dict; ``None`` accepts any object.
    - ``validate(config)``: optional checks beyond the schema; raise
      ``ConfigError(field, message)``. Runs in validate_config and before
      every send.
    - ``send(config, payload_json, message)``: deliver; return an
      ``http.Response`` (classified for you), a ``SendOutcome`` or ``None``;
      raise ``SendError`` (or let a FetchError/ConfigError/KvError escape).
      ``kv`` reaches the channel's bucket.
    """
    d = _Definition("channel", "send", id, name, version, description, config, validate, send)

    def parse(config_json):
        config = d.parse(config_json)
        if d.validate is not None:
            d.validate(config)
        return config

    class ChannelApi:
        definition = d

        def describe(self):
            return d.info()

        def validate_config(self, config_json: str) -> None:
            try:
                parse(config_json)
            except Exception as err:  # noqa: BLE001 - every failure is an answer
                e = _to_config_error(err)
                raise Err(wit_types.ConfigError(field=e.field, message=e.detail)) from None

        def send(self, config_json: str, payload_json: str, message, state):
            try:
                try:
                    config = parse(config_json)
                except Exception as err:  # noqa: BLE001
                    raise _to_config_error(err) from None
                with _kv.using_bucket(state):
                    result = d.fn(config, payload_json, Message.from_wit(message))
                return _to_outcome(result)
            except Err:
                raise
            except Exception as err:  # noqa: BLE001
                raise Err(to_send_error(err)) from None

    ChannelApi.__qualname__ = ChannelApi.__name__ = "ChannelApi"
    return ChannelApi


def define_filter(
    *,
    id: str,
    name: str,
    version: str,
    description: str,
    evaluate: Callable[[Any, Message], Any],
    config=None,
    validate: Optional[Callable[[Any], None]] = None,
):
    """Define a filter (world ``filter``; no network). Assign the result to
    ``FilterApi`` in the plugin module.

    - ``evaluate(config, message)``: return a bool or a ``Verdict``
      (``Verdict.pass_(note)``, ``Verdict.block(note)``); raise to say
      "could not decide" (the rule does not match and the user sees the
      message). Called once per rule; ``kv`` reaches that rule's bucket.
      Keep nothing in module state between calls.
    - ``validate(config)``: optional; runs in validate_config only (as in the
      Rust and JS SDKs); evaluate gets configs that passed the schema.
    """
    d = _Definition("filter", "evaluate", id, name, version, description, config, validate, evaluate)

    class FilterApi:
        definition = d

        def describe(self):
            return d.info()

        def validate_config(self, config_json: str) -> None:
            try:
                config = d.parse(config_json)
                if d.validate is not None:
                    d.validate(config)
            except Exception as err:  # noqa: BLE001
                e = _to_config_error(err)
                raise Err(wit_types.ConfigError(field=e.field, message=e.detail)) from None

        def evaluate(self, config_jsons, states, message):
            msg = Message.from_wit(message)
            results = []
            for i, config_json in enumerate(config_jsons):
                try:
                    try:
                        config = d.parse(config_json)
                    except Exception as err:  # noqa: BLE001
                        raise ValueError(f"invalid filter config: {_error_text(err)}") from None
                    with _kv.using_bucket(states[i] if i < len(states) else None):
                        verdict = _to_verdict(d.fn(config, msg))
                    results.append(Ok(verdict))
                except Exception as err:  # noqa: BLE001
                    if isinstance(err, _BUGS):
                        log.error(f"evaluate raised {_describe_thrown(err)}")
                        results.append(Err(f"{type(err).__name__}: {_error_text(err)}"))
                    else:
                        results.append(Err(_error_text(err)))
            return results

    FilterApi.__qualname__ = FilterApi.__name__ = "FilterApi"
    return FilterApi
