"""Config parsing against the plugin's JSON Schema, with errors naming the
field as a JSON path (``url``, ``headers.Authorization``, ``device_keys[1]``).

Two ways to describe a config:

* a **dataclass** whose fields use :func:`field` / :func:`secret` for
  constraints and descriptions. :func:`schema_for` derives the JSON Schema
  (draft 2020-12) the plugin reports, and the plugin gets an instance of the
  dataclass;
* a **JSON Schema dict** (as in the JS SDK); the plugin gets a dict.

Either way the value is checked by :func:`conform`, the same subset of JSON
Schema the JS SDK enforces, with the same messages: ``type`` (also a list),
``properties``, ``required``, ``additionalProperties`` (false or a schema),
``items``, ``enum``, ``const``, ``default``, ``minimum``, ``maximum``,
``exclusiveMinimum``, ``exclusiveMaximum``, ``minLength``, ``maxLength``,
``pattern``, ``minItems``, ``maxItems``. Annotations (``title``,
``description``, ``examples``, ``format``, ``x-secret``, ``writeOnly``, ...)
go to ``describe`` untouched. Composition keywords (``anyOf``, ``oneOf``,
``$ref``, ...) are refused when the plugin is defined: check such rules in
``validate``.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import math
import re
import typing
from typing import Any, Dict, List, Optional

from .errors import ConfigError, dumps_compact, loads_strict

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

UNSUPPORTED = (
    "anyOf", "oneOf", "allOf", "not", "if", "then", "else", "$ref", "$dynamicRef",
    "patternProperties", "propertyNames", "dependentRequired", "dependentSchemas",
    "prefixItems", "contains", "unevaluatedProperties", "unevaluatedItems", "uniqueItems",
    "multipleOf", "minProperties", "maxProperties",
)

TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")

_MISSING = dataclasses.MISSING
_META_KEY = "beacon_plugin"


# ---------------------------------------------------------------- paths


def join_path(parent: str, name) -> str:
    """Append a property name to a JSON path (``""`` + ``a`` = ``a``, ``x`` + ``a`` = ``x.a``)."""
    return f"{parent}.{name}" if parent else str(name)


def _index_path(parent: str, index) -> str:
    return f"{parent}[{index}]"


# ---------------------------------------------------------------- schema checks


def _types_of(schema: dict):
    t = schema.get("type")
    if t is None:
        return None
    return list(t) if isinstance(t, (list, tuple)) else [t]


def check_schema(schema, path: str = "") -> None:
    """Check that a schema only uses keywords the SDK enforces; raises a
    TypeError naming the keyword and where it is (a programming error, found
    by the plugin's own tests)."""
    where = f" at {path}" if path else ""
    if schema is True or schema is False:
        return
    if not isinstance(schema, dict):
        raise TypeError(f"config schema{where} must be a dict")
    for key in UNSUPPORTED:
        if key in schema:
            raise TypeError(
                f"config schema uses `{key}`{where}, which the Python SDK does not enforce; check it in validate() instead"
            )
    for t in _types_of(schema) or []:
        if t not in TYPES:
            raise TypeError(f"config schema has unknown type `{t}`{where}")
    if "pattern" in schema:
        try:
            re.compile(schema["pattern"])
        except (re.error, TypeError) as err:
            raise TypeError(f"config schema has an invalid pattern{where}: {err}") from None
    for name, sub in (schema.get("properties") or {}).items():
        check_schema(sub, join_path(path, name))
    if isinstance(schema.get("additionalProperties"), dict):
        check_schema(schema["additionalProperties"], join_path(path, "*"))
    if "items" in schema:
        check_schema(schema["items"], _index_path(path, "*"))


def schema_text(schema: dict) -> str:
    """The schema as ``describe`` reports it: compact JSON, ``$schema`` added (first) when missing."""
    if "$schema" not in schema:
        schema = {"$schema": SCHEMA_DIALECT, **schema}
    return dumps_compact(schema)


# ---------------------------------------------------------------- conform


def _type_name(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def _matches_type(value, t: str) -> bool:
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "integer":
        return not isinstance(value, bool) and (
            isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        )
    if t == "number":
        return not isinstance(value, bool) and (
            isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
        )
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    if t == "string":
        return isinstance(value, str)
    return False


def _json_equal(a, b) -> bool:
    # As the JS SDK: compare the JSON texts (so 1 == 1.0 but True != 1).
    def norm(v):
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, list):
            return [norm(x) for x in v]
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        return v

    try:
        return dumps_compact(norm(a)) == dumps_compact(norm(b))
    except (TypeError, ValueError):
        return a == b


def _describe_value(value) -> str:
    try:
        text = dumps_compact(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _num(n):
    # Print 100.0 as 100, as JavaScript does.
    return int(n) if isinstance(n, float) and n.is_integer() else n


def conform(value, schema, path: str = ""):
    """Check ``value`` against ``schema`` and return it with ``default``\\ s
    filled in (a copy; the input is not modified). Raises ConfigError naming
    the field."""
    if schema is True or schema is None:
        return copy.deepcopy(value)
    if schema is False:
        raise ConfigError(path, "is not allowed")

    def fail(message: str):
        raise ConfigError(path, message)

    types = _types_of(schema)
    if types and not any(_matches_type(value, t) for t in types):
        fail(f"invalid type: expected {' or '.join(types)}, got {_type_name(value)}")
    if "const" in schema and not _json_equal(value, schema["const"]):
        fail(f"must be {_describe_value(schema['const'])}")
    if "enum" in schema and not any(_json_equal(v, value) for v in schema["enum"]):
        fail(f"must be one of {', '.join(_describe_value(v) for v in schema['enum'])}, got {_describe_value(value)}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            fail(f"must be at least {_num(schema['minimum'])}")
        if "maximum" in schema and value > schema["maximum"]:
            fail(f"must be at most {_num(schema['maximum'])}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            fail(f"must be greater than {_num(schema['exclusiveMinimum'])}")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            fail(f"must be less than {_num(schema['exclusiveMaximum'])}")
    if isinstance(value, str):
        length = len(value)
        if "minLength" in schema and length < schema["minLength"]:
            fail("must not be empty" if schema["minLength"] == 1 else f"must be at least {schema['minLength']} characters long")
        if "maxLength" in schema and length > schema["maxLength"]:
            fail(f"must be at most {schema['maxLength']} characters long")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            fail(f"must match the pattern {schema['pattern']}")
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            fail("must not be empty" if schema["minItems"] == 1 else f"must have at least {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            fail(f"must have at most {schema['maxItems']} items")
        if "items" in schema:
            return [conform(item, schema["items"], _index_path(path, i)) for i, item in enumerate(value)]
        return copy.deepcopy(value)
    if isinstance(value, dict) and ("properties" in schema or "required" in schema or "additionalProperties" in schema):
        props = schema.get("properties") or {}
        for name in schema.get("required") or []:
            if name not in value:
                raise ConfigError(join_path(path, name), f"missing field `{name}`")
        out = {}
        for name, sub in props.items():
            if name in value:
                out[name] = conform(value[name], sub, join_path(path, name))
            elif isinstance(sub, dict) and "default" in sub:
                out[name] = copy.deepcopy(sub["default"])
        for name, item in value.items():
            if name in props:
                continue
            extra = schema.get("additionalProperties", True)
            if extra is False:
                known = list(props)
                expected = f", expected one of {', '.join(f'`{k}`' for k in known)}" if known else ""
                raise ConfigError(join_path(path, name), f"unknown field `{name}`{expected}")
            out[name] = conform(item, extra, join_path(path, name))
        return out
    return copy.deepcopy(value)


def parse_config(config_json: str, schema_or_class):
    """Parse config JSON text and check it against a schema dict or a config
    dataclass; returns the config (dict, or dataclass instance) with defaults
    filled in. Raises ConfigError naming the field."""
    try:
        value = loads_strict(config_json)
    except (ValueError, RecursionError) as err:
        raise ConfigError("", f"config is not valid JSON: {err}") from None
    if _is_dataclass_type(schema_or_class):
        return from_dict(schema_or_class, conform(value, schema_for(schema_or_class)))
    return conform(value, schema_or_class)


# ---------------------------------------------------------------- dataclass configs


def field(
    default=_MISSING,
    *,
    default_factory=_MISSING,
    description: Optional[str] = None,
    title: Optional[str] = None,
    secret: bool = False,
    name: Optional[str] = None,
    examples: Optional[list] = None,
    format: Optional[str] = None,
    minimum=None,
    maximum=None,
    exclusive_minimum=None,
    exclusive_maximum=None,
    min_length: Optional[int] = None,
    max_length: Optional[int] = None,
    pattern: Optional[str] = None,
    min_items: Optional[int] = None,
    max_items: Optional[int] = None,
    schema: Optional[dict] = None,
):
    """A dataclass field with JSON Schema keywords for its config key.

    ``secret=True`` marks it ``"x-secret": true, "writeOnly": true`` (the
    dashboard masks it, the API never echoes it). ``name`` is the JSON key
    when it differs from the attribute name. ``schema`` adds any other
    keywords (``{"enum": [...]}``, ``{"const": ...}``) verbatim. A field
    without a default is required."""
    extra: Dict[str, Any] = {}
    for key, value in (
        ("title", title),
        ("description", description),
        ("examples", examples),
        ("format", format),
        ("minimum", minimum),
        ("maximum", maximum),
        ("exclusiveMinimum", exclusive_minimum),
        ("exclusiveMaximum", exclusive_maximum),
        ("minLength", min_length),
        ("maxLength", max_length),
        ("pattern", pattern),
        ("minItems", min_items),
        ("maxItems", max_items),
    ):
        if value is not None:
            extra[key] = value
    if schema:
        extra.update(schema)
    if secret:
        extra["x-secret"] = True
        extra["writeOnly"] = True
    meta = {_META_KEY: {"schema": extra, "name": name}}
    if default_factory is not _MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def secret(default=_MISSING, **kwargs):
    """``field(..., secret=True)``: a config value the dashboard masks."""
    return field(default, secret=True, **kwargs)


def _is_dataclass_type(obj) -> bool:
    return isinstance(obj, type) and dataclasses.is_dataclass(obj)


def _json_name(f: dataclasses.Field) -> str:
    meta = f.metadata.get(_META_KEY) or {}
    return meta.get("name") or f.name


def _hints(cls) -> dict:
    try:
        return typing.get_type_hints(cls)
    except Exception as err:  # noqa: BLE001 - a forward reference we cannot resolve
        raise TypeError(f"cannot resolve the type annotations of {cls.__name__}: {err}") from err


def _is_optional(tp) -> bool:
    return typing.get_origin(tp) is typing.Union and type(None) in typing.get_args(tp)


def _strip_optional(tp):
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if len(args) != 1:
        raise TypeError(f"unions other than Optional[X] are not supported in config dataclasses: {tp}")
    return args[0]


def _type_schema(tp, where: str) -> dict:
    origin = typing.get_origin(tp)
    if tp is typing.Any or tp is object:
        return {}
    if _is_optional(tp):
        inner = _type_schema(_strip_optional(tp), where)
        types = _types_of(inner)
        if types is not None and "null" not in types:
            inner["type"] = types + ["null"]
        if "enum" in inner and None not in inner["enum"]:
            inner["enum"] = list(inner["enum"]) + [None]
        return inner
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if tp is str:
        return {"type": "string"}
    if origin is typing.Literal or (isinstance(tp, type) and issubclass(tp, enum.Enum)):
        values = list(typing.get_args(tp)) if origin is typing.Literal else [m.value for m in tp]
        kinds = {_type_name(v) for v in values}
        if len(kinds) == 1 and None not in values:
            return {"type": kinds.pop(), "enum": values}
        return {"enum": values}
    if origin in (list, List, typing.Sequence) or tp in (list, List):
        args = typing.get_args(tp)
        out = {"type": "array"}
        if args:
            out["items"] = _type_schema(args[0], where + "[*]")
        return out
    if origin in (dict, Dict, typing.Mapping) or tp in (dict, Dict):
        args = typing.get_args(tp)
        if args and args[0] is not str:
            raise TypeError(f"config field {where}: dict keys must be str")
        out = {"type": "object"}
        if len(args) == 2:
            out["additionalProperties"] = _type_schema(args[1], where + ".*")
        return out
    if _is_dataclass_type(tp):
        return schema_for(tp, _where=where)
    raise TypeError(f"config field {where}: unsupported type {tp!r} (use str, int, float, bool, list, dict, Literal, Optional, an Enum or a dataclass)")


_SCHEMA_CACHE: Dict[type, dict] = {}


def schema_for(cls, *, _where: str = "") -> dict:
    """The JSON Schema (draft 2020-12 subset) of a config dataclass: an
    object with one property per field (in order), ``required`` for fields
    without a default, ``additionalProperties: false``. The class docstring
    (when written by hand) becomes the ``description``."""
    if not _is_dataclass_type(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    if not _where and cls in _SCHEMA_CACHE:
        return copy.deepcopy(_SCHEMA_CACHE[cls])
    hints = _hints(cls)
    props: Dict[str, Any] = {}
    required: List[str] = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        key = _json_name(f)
        where = join_path(_where, key)
        sub = _type_schema(hints.get(f.name, typing.Any), where)
        meta = f.metadata.get(_META_KEY) or {}
        sub.update(meta.get("schema") or {})
        if f.default is not _MISSING:
            if f.default is not None:
                sub["default"] = _json_default(f.default, where)
        elif f.default_factory is not _MISSING:  # type: ignore[misc]
            sub["default"] = _json_default(f.default_factory(), where)  # type: ignore[misc]
        else:
            required.append(key)
        props[key] = sub
    schema: Dict[str, Any] = {"type": "object"}
    doc = cls.__doc__
    if doc and not doc.startswith(cls.__name__ + "("):  # not the generated signature
        schema["description"] = " ".join(doc.split())
    schema["properties"] = props
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    check_schema(schema)
    if not _where:
        _SCHEMA_CACHE[cls] = copy.deepcopy(schema)
    return schema


def _json_default(value, where: str):
    if isinstance(value, enum.Enum):
        value = value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = to_dict(value)
    try:
        dumps_compact(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"config field {where}: default {value!r} is not JSON: {err}") from None
    return value


def _convert(tp, value):
    if value is None:
        return None
    if _is_optional(tp):
        return _convert(_strip_optional(tp), value)
    if tp is int and isinstance(value, float):
        return int(value)
    if tp is float and isinstance(value, int):
        return float(value)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if (origin in (list, List, typing.Sequence)) and args:
        return [_convert(args[0], v) for v in value]
    if (origin in (dict, Dict, typing.Mapping)) and len(args) == 2:
        return {k: _convert(args[1], v) for k, v in value.items()}
    if _is_dataclass_type(tp):
        return from_dict(tp, value)
    return value


def from_dict(cls, value: dict):
    """A config dataclass instance from a conformed dict (JSON names -> fields)."""
    hints = _hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        key = _json_name(f)
        if key in value:
            kwargs[f.name] = _convert(hints.get(f.name, typing.Any), value[key])
    return cls(**kwargs)


def to_dict(instance) -> dict:
    """The JSON object of a config dataclass instance (fields -> JSON names)."""
    out = {}
    for f in dataclasses.fields(instance):
        v = getattr(instance, f.name)
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            v = to_dict(v)
        elif isinstance(v, enum.Enum):
            v = v.value
        out[_json_name(f)] = v
    return out


# ---------------------------------------------------------------- URLs

_BAD_URL_CHARS = re.compile(
    "[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\u0000-\u001f\u007f-\u009f]"
)


def check_http_url(field_path: str, value) -> None:
    """Check that ``value`` is an absolute ``http://`` or ``https://`` URL with
    a host, no userinfo, no whitespace and no fragment; raises ConfigError
    naming ``field_path``. (The host re-checks every request against its
    outbound policy; this only catches mistakes early, in ``validate``.)"""

    def fail(why: str):
        raise ConfigError(field_path, why)

    if not isinstance(value, str):
        fail("must be a string")
    if value == "":
        fail("must not be empty")
    if _BAD_URL_CHARS.search(value):
        fail("must not contain whitespace")
    lower = value.lower()
    if lower.startswith("https://"):
        rest = value[8:]
    elif lower.startswith("http://"):
        rest = value[7:]
    else:
        fail("must be an absolute http:// or https:// URL")
    m = re.search(r"[/?#]", rest)
    authority = rest if m is None else rest[: m.start()]
    if "@" in authority:
        fail("must not contain a user name or password")
    port = None
    if authority.startswith("["):
        close = authority.find("]")
        if close == -1:
            fail("has an unterminated IPv6 address")
        host = authority[1:close]
        after = authority[close + 1 :]
        if after != "":
            if not after.startswith(":"):
                fail("has an invalid port")
            port = after[1:]
    else:
        colon = authority.rfind(":")
        host = authority if colon == -1 else authority[:colon]
        if colon != -1:
            port = authority[colon + 1 :]
    if host == "":
        fail("must include a host name")
    if port is not None and (not re.fullmatch(r"[0-9]+", port, flags=re.ASCII) or int(port) > 65535):
        fail("has an invalid port")
    if "#" in value:
        fail("must not contain a fragment (#...)")
