import dataclasses
import enum
import unittest
from typing import Dict, List, Literal, Optional

from beacon_plugin import ConfigError, check_http_url, conform, field, parse_config, schema_for, secret
from beacon_plugin.config import check_schema, schema_text

SCHEMA = {
    "type": "object",
    "properties": {
        "url": {"type": "string", "minLength": 1},
        "method": {"enum": ["POST", "PUT"], "default": "POST"},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}, "default": {}},
        "keys": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z0-9]+$"}, "minItems": 1},
        "timeout_ms": {"type": ["integer", "null"], "minimum": 100, "maximum": 120000},
    },
    "required": ["url"],
    "additionalProperties": False,
}


def field_of(fn):
    try:
        fn()
    except ConfigError as err:
        return [err.field, err.detail]
    raise AssertionError("expected a ConfigError")


class SchemaDictTest(unittest.TestCase):
    def test_defaults_are_filled_in_and_the_input_is_not_modified(self):
        given = {"url": "https://x"}
        self.assertEqual(conform(given, SCHEMA), {"url": "https://x", "method": "POST", "headers": {}})
        self.assertEqual(given, {"url": "https://x"})

    def test_errors_name_the_field_as_a_json_path(self):
        self.assertEqual(field_of(lambda: parse_config("{}", SCHEMA)), ["url", "missing field `url`"])
        self.assertEqual(field_of(lambda: parse_config('{"url": 3}', SCHEMA)), ["url", "invalid type: expected string, got integer"])
        self.assertEqual(field_of(lambda: parse_config('{"url": true}', SCHEMA)), ["url", "invalid type: expected string, got boolean"])
        self.assertEqual(field_of(lambda: parse_config('{"url": ""}', SCHEMA)), ["url", "must not be empty"])
        self.assertEqual(field_of(lambda: parse_config('{"url": "u", "nope": 1}', SCHEMA))[0], "nope")
        self.assertEqual(field_of(lambda: parse_config('{"url": "u", "method": "GET"}', SCHEMA)),
                         ["method", 'must be one of "POST", "PUT", got "GET"'])
        self.assertEqual(field_of(lambda: parse_config('{"url": "u", "headers": {"A": 1}}', SCHEMA))[0], "headers.A")
        self.assertEqual(field_of(lambda: parse_config('{"url": "u", "keys": ["ok", "n o"]}', SCHEMA))[0], "keys[1]")
        self.assertEqual(field_of(lambda: parse_config('{"url": "u", "keys": []}', SCHEMA)), ["keys", "must not be empty"])
        self.assertEqual(field_of(lambda: parse_config('{"url": "u", "timeout_ms": 5}', SCHEMA)), ["timeout_ms", "must be at least 100"])
        self.assertEqual(field_of(lambda: parse_config('{"url": "u", "timeout_ms": 1.5}', SCHEMA))[0], "timeout_ms")
        self.assertIsNone(parse_config('{"url": "u", "timeout_ms": null}', SCHEMA)["timeout_ms"])
        self.assertEqual(parse_config('{"url": "u", "timeout_ms": 500.0}', SCHEMA)["timeout_ms"], 500.0)
        self.assertEqual(field_of(lambda: parse_config("[]", SCHEMA)), ["", "invalid type: expected object, got array"])
        f, message = field_of(lambda: parse_config('{"url":', SCHEMA))
        self.assertEqual(f, "")
        self.assertTrue(message.startswith("config is not valid JSON: "))
        self.assertEqual(field_of(lambda: parse_config('{"url": NaN}', SCHEMA))[0], "")

    def test_unknown_field_lists_the_known_ones(self):
        self.assertEqual(
            field_of(lambda: conform({"url": "u", "x": 1}, SCHEMA)),
            ["x", "unknown field `x`, expected one of `url`, `method`, `headers`, `keys`, `timeout_ms`"],
        )

    def test_unsupported_schema_keywords_are_refused_up_front(self):
        with self.assertRaisesRegex(TypeError, "`anyOf` at a"):
            check_schema({"type": "object", "properties": {"a": {"anyOf": []}}})
        with self.assertRaisesRegex(TypeError, "unknown type"):
            check_schema({"type": "strin"})
        with self.assertRaisesRegex(TypeError, "invalid pattern"):
            check_schema({"type": "string", "pattern": "("})
        check_schema(SCHEMA)

    def test_schema_text_adds_the_dialect_first(self):
        self.assertEqual(schema_text({"type": "object"}), '{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object"}')
        self.assertEqual(schema_text({"$schema": "x", "type": "object"}), '{"$schema":"x","type":"object"}')


class Mode(enum.Enum):
    FAST = "fast"
    SLOW = "slow"


@dataclasses.dataclass
class Inner:
    name: str = field(min_length=1)
    weight: float = 1.0


@dataclasses.dataclass
class Config:
    """A test config."""

    url: str = field(description="Where to.")
    token: Optional[str] = secret(None, description="Bearer token.")
    method: Literal["POST", "PUT"] = "POST"
    timeout_ms: Optional[int] = field(None, minimum=100, maximum=120000)
    keys: List[str] = field(default_factory=list, max_items=3)
    headers: Dict[str, str] = field(default_factory=dict)
    inner: Optional[Inner] = None
    mode: Mode = Mode.FAST
    level: Optional[Literal["low", "high"]] = None
    dashed: int = field(0, name="dashed-name")


class DataclassTest(unittest.TestCase):
    def test_schema(self):
        s = schema_for(Config)
        self.assertEqual(s["type"], "object")
        self.assertEqual(s["description"], "A test config.")
        self.assertEqual(s["required"], ["url"])
        self.assertIs(s["additionalProperties"], False)
        self.assertEqual(s["properties"]["url"], {"type": "string", "description": "Where to."})
        self.assertEqual(
            s["properties"]["token"],
            {"type": ["string", "null"], "description": "Bearer token.", "x-secret": True, "writeOnly": True},
        )
        self.assertEqual(s["properties"]["method"], {"type": "string", "enum": ["POST", "PUT"], "default": "POST"})
        self.assertEqual(s["properties"]["timeout_ms"], {"type": ["integer", "null"], "minimum": 100, "maximum": 120000})
        self.assertEqual(s["properties"]["keys"], {"type": "array", "items": {"type": "string"}, "maxItems": 3, "default": []})
        self.assertEqual(s["properties"]["headers"]["additionalProperties"], {"type": "string"})
        self.assertEqual(s["properties"]["inner"]["type"], ["object", "null"])
        self.assertEqual(s["properties"]["inner"]["required"], ["name"])
        self.assertEqual(s["properties"]["mode"], {"type": "string", "enum": ["fast", "slow"], "default": "fast"})
        self.assertIn("dashed-name", s["properties"])
        self.assertEqual(s["properties"]["level"], {"type": ["string", "null"], "enum": ["low", "high", None]})

    def test_parse_builds_the_dataclass(self):
        c = parse_config('{"url": "https://x", "timeout_ms": 500.0, "inner": {"name": "n", "weight": 2}, "mode": "slow", "dashed-name": 4}', Config)
        self.assertIsInstance(c, Config)
        self.assertEqual(c.url, "https://x")
        self.assertIsNone(c.token)
        self.assertEqual(c.method, "POST")
        self.assertEqual(c.timeout_ms, 500)
        self.assertIsInstance(c.timeout_ms, int)
        self.assertEqual(c.inner, Inner("n", 2.0))
        self.assertIsInstance(c.inner.weight, float)
        self.assertIs(c.mode, Mode.SLOW)
        self.assertEqual(c.dashed, 4)
        self.assertEqual(c.keys, [])
        self.assertIsNone(parse_config('{"url": "u", "level": null}', Config).level)
        self.assertEqual(parse_config('{"url": "u", "level": "high"}', Config).level, "high")

    def test_parse_errors_name_the_field(self):
        self.assertEqual(field_of(lambda: parse_config("{}", Config)), ["url", "missing field `url`"])
        self.assertEqual(field_of(lambda: parse_config('{"url": "u", "inner": {"name": ""}}', Config)), ["inner.name", "must not be empty"])
        self.assertEqual(field_of(lambda: parse_config('{"url": "u", "keys": ["a", 1]}', Config))[0], "keys[1]")
        self.assertEqual(field_of(lambda: parse_config('{"url": "u", "keys": ["a", "b", "c", "d"]}', Config)), ["keys", "must have at most 3 items"])
        self.assertEqual(field_of(lambda: parse_config('{"url": "u", "mode": "medium"}', Config))[0], "mode")
        self.assertEqual(field_of(lambda: parse_config('{"url": "u", "dashed": 1}', Config))[0], "dashed")

    def test_unsupported_types_are_refused(self):
        @dataclasses.dataclass
        class Bad:
            x: set

        with self.assertRaisesRegex(TypeError, "config field x: unsupported type"):
            schema_for(Bad)


class CheckHttpUrlTest(unittest.TestCase):
    def test_good(self):
        check_http_url("url", "https://api.day.app")
        check_http_url("url", "http://[::1]:8080/x?y=1")
        check_http_url("url", "HTTPS://example.com:443/")

    def test_bad(self):
        for bad, why in [
            ("", "must not be empty"),
            ("ftp://x", "must be an absolute http:// or https:// URL"),
            ("https://u:p@x", "must not contain a user name or password"),
            ("https:///x", "must include a host name"),
            ("https://x:99999", "has an invalid port"),
            ("https://x:", "has an invalid port"),
            ("https://x/a b", "must not contain whitespace"),
            ("https://x/a\u0007", "must not contain whitespace"),
            ("https://x/\u00a0", "must not contain whitespace"),
            ("https://x/#frag", "must not contain a fragment (#...)"),
            ("https://[::1", "has an unterminated IPv6 address"),
            (3, "must be a string"),
        ]:
            with self.subTest(bad=bad):
                self.assertEqual(field_of(lambda: check_http_url("hook.url", bad)), ["hook.url", why])


if __name__ == "__main__":
    unittest.main()
