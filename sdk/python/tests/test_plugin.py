import dataclasses
import json
import unittest
from typing import Optional

from beacon_plugin import (
    ConfigError,
    SendError,
    SendOutcome,
    Verdict,
    check_http_url,
    define_channel,
    define_filter,
    field,
    kv,
    log,
    secret,
    testing,
)
from beacon_plugin import http


@dataclasses.dataclass
class HookConfig:
    url: str
    token: Optional[str] = secret(None)


def hook_send(config, payload_json, message):
    log.info(f"delivering {message.id}")
    count = kv.increment("sent")
    headers = {"content-type": "application/json"}
    if config.token:
        headers["authorization"] = f"Bearer {config.token}"
    if json.loads(payload_json).get("boom"):
        raise TypeError("boom")
    return http.post(config.url, headers=headers, body=payload_json, timeout_ms=5000 + count)


Hook = define_channel(
    id="test-hook",
    name="Test hook",
    version="1.2.3",
    description="Posts things.",
    config=HookConfig,
    validate=lambda config: check_http_url("url", config.url),
    send=hook_send,
)

URL = "https://example.com/x"


class ChannelTest(unittest.TestCase):
    def setUp(self):
        testing.reset()

    def test_describe(self):
        info = testing.describe(Hook)
        self.assertEqual(info["id"], "test-hook")
        self.assertEqual(info["kind"], "channel")
        self.assertEqual(info["version"], "1.2.3")
        self.assertEqual(info["schema"]["$schema"], "https://json-schema.org/draft/2020-12/schema")
        self.assertIs(info["schema"]["properties"]["token"]["x-secret"], True)
        self.assertIs(info["schema"]["properties"]["token"]["writeOnly"], True)
        self.assertTrue(info["config_schema"].startswith('{"$schema":'))

    def test_validate_config_names_the_field(self):
        self.assertIsNone(testing.validate_config(Hook, {"url": URL}))
        self.assertEqual(testing.validate_config(Hook, {}), {"field": "url", "message": "missing field `url`"})
        self.assertEqual(
            testing.validate_config(Hook, {"url": "ftp://x"}),
            {"field": "url", "message": "must be an absolute http:// or https:// URL"},
        )
        self.assertEqual(testing.validate_config(Hook, "{nope")["field"], "")

    def test_send_success_records_the_response_and_kv_and_logs_work(self):
        def handler(req):
            self.assertEqual(req.url, URL)
            self.assertEqual(req.header("authorization"), "Bearer s3cret")
            return testing.response(200, '{"ok": true}')

        testing.mock_fetch(handler)
        r = testing.send(Hook, config={"url": URL, "token": "s3cret"}, payload={"a": 1}, message={"id": "f" * 32})
        self.assertEqual(r, {"ok": True, "outcome": {"http_status": 200, "response_snippet": '{"ok": true}', "response_json": '{"ok":true}'}})
        self.assertEqual(testing.requests()[0].text, '{"a":1}')
        self.assertEqual(testing.requests()[0].timeout_ms, 5001)
        self.assertEqual(testing.take_logs(), [{"level": "info", "message": f"delivering {'f' * 32}"}])
        testing.send(Hook, config={"url": URL})
        self.assertEqual(testing.bucket().get("sent"), b"2")

    def test_send_status_classes_fetch_errors_bad_config_and_bugs(self):
        testing.mock_fetch(lambda req: testing.response(503, "busy", {"retry-after": "5"}))
        r = testing.send(Hook, config={"url": URL})
        self.assertEqual(r["error"], {
            "kind": "retryable", "message": "HTTP 503: busy", "retry_after_ms": 5000, "http_status": 503,
            "response_snippet": "busy", "response_json": None,
        })

        testing.mock_fetch(lambda req: testing.response(404, ""))
        r = testing.send(Hook, config={"url": URL})
        self.assertEqual((r["error"]["kind"], r["error"]["message"]), ("permanent", "HTTP 404"))

        def denied(req):
            raise testing.fetch_error("policy-denied", "address 127.0.0.1 is loopback")

        testing.mock_fetch(denied)
        r = testing.send(Hook, config={"url": URL})
        self.assertEqual(r["error"], {
            "kind": "permanent", "message": "refused by outbound policy: address 127.0.0.1 is loopback",
            "retry_after_ms": None, "http_status": None, "response_snippet": None, "response_json": None,
        })

        def reset(req):
            raise testing.fetch_error("connection", "reset")

        testing.mock_fetch(reset)
        r = testing.send(Hook, config={"url": URL})
        self.assertEqual(r["error"]["kind"], "retryable")

        r = testing.send(Hook, config={"url": "nope"})
        self.assertEqual(r["error"]["kind"], "permanent")
        self.assertEqual(r["error"]["message"], "invalid channel config: url: must be an absolute http:// or https:// URL")
        self.assertEqual(len(testing.requests()), 4)

        testing.take_logs()
        r = testing.send(Hook, config={"url": URL}, payload={"boom": True})
        self.assertEqual(r["error"]["kind"], "permanent")
        self.assertEqual(r["error"]["message"], "plugin error: TypeError: boom")
        last = testing.take_logs()[-1]
        self.assertEqual(last["level"], "error")
        self.assertIn("Traceback", last["message"])

    def test_fetch_is_refused_outside_send_as_on_the_host(self):
        def sneaky_validate(config):
            http.get("https://example.com/")

        sneaky = define_channel(id="sneaky", name="S", version="0.1.0", description="d", validate=sneaky_validate, send=lambda *a: None)
        testing.mock_fetch(lambda req: testing.response(200))
        err = testing.validate_config(sneaky, {})
        self.assertEqual(err["field"], "")
        self.assertRegex(err["message"], "refused by outbound policy")

    def test_send_may_return_nothing_an_outcome_or_raise_send_error(self):
        def send(config, payload_json, message):
            mode = json.loads(payload_json).get("mode")
            if mode == "raise":
                raise SendError.retryable("later").with_retry_after_ms(1500.9).with_status(299)
            if mode == "outcome":
                return SendOutcome(http_status=250, response_snippet="x")
            if mode == "kv":
                kv.set("", "bad key")
            if mode == "dict":
                return {"http_status": 201}
            if mode == "config":
                raise ConfigError("a.b", "is odd")
            return None

        p = define_channel(id="p", name="P", version="0.1.0", description="d", send=send)
        self.assertEqual(testing.send(p), {"ok": True, "outcome": {"http_status": None, "response_snippet": None, "response_json": None}})
        r = testing.send(p, payload={"mode": "raise"})
        self.assertEqual((r["error"]["retry_after_ms"], r["error"]["http_status"]), (1500, 299))
        self.assertEqual(testing.send(p, payload={"mode": "outcome"})["outcome"]["http_status"], 250)
        self.assertEqual(testing.send(p, payload={"mode": "dict"})["outcome"]["http_status"], 201)
        r = testing.send(p, payload={"mode": "kv"})
        self.assertEqual((r["error"]["kind"], r["error"]["message"]), ("permanent", "state: invalid: key must be 1-256 bytes, got 0"))
        r = testing.send(p, payload={"mode": "config"})
        self.assertEqual(r["error"]["message"], "invalid channel config: a.b: is odd")

    def test_schema_dict_configs_give_a_dict(self):
        seen = []
        p = define_channel(
            id="dict-config", name="D", version="0.1.0", description="d",
            config={"type": "object", "properties": {"n": {"type": "integer", "default": 3}}, "additionalProperties": False},
            send=lambda config, payload, message: seen.append(config),
        )
        self.assertTrue(testing.send(p)["ok"])
        self.assertEqual(seen, [{"n": 3}])
        self.assertEqual(testing.validate_config(p, {"n": "x"}), {"field": "n", "message": "invalid type: expected integer, got string"})

    def test_a_validate_bug_is_a_config_error_for_the_whole_document(self):
        def validate(config):
            raise RuntimeError("oops")

        p = define_channel(id="p", name="P", version="0.1.0", description="d", validate=validate, send=lambda *a: None)
        self.assertEqual(testing.validate_config(p, {}), {"field": "", "message": "config rejected: oops"})
        self.assertEqual(testing.take_logs()[-1]["level"], "error")


@dataclasses.dataclass
class DedupeConfig:
    window_s: int = field(60, minimum=1)


def dedupe_evaluate(config, message):
    if message.body == "explode":
        raise ValueError("cannot decide")
    if message.body == "bug":
        return {}["missing"]
    if kv.add(f"body:{message.body}", message.id, ttl_seconds=config.window_s):
        return True
    return Verdict.block(f"duplicate within {config.window_s} s")


Dedupe = define_filter(
    id="dedupe",
    name="Dedupe",
    version="0.1.0",
    description="Drops repeated bodies.",
    config=DedupeConfig,
    evaluate=dedupe_evaluate,
)


class FilterTest(unittest.TestCase):
    def setUp(self):
        testing.reset()

    def test_verdicts_per_rule_buckets_and_errors(self):
        self.assertEqual(testing.describe(Dedupe)["kind"], "filter")
        r = testing.evaluate(Dedupe, [{}, {"window_s": 5}, {"window_s": 0}], {"body": "hi"}, scopes=["a", "b", "c"])
        self.assertEqual(r[0], {"ok": True, "matched": True, "note": None})
        self.assertEqual(r[1], {"ok": True, "matched": True, "note": None})
        self.assertFalse(r[2]["ok"])
        self.assertTrue(r[2]["error"].startswith("invalid filter config: window_s: must be at least 1"))
        r = testing.evaluate(Dedupe, [{"window_s": 5}], {"body": "hi"}, scopes=["b"])
        self.assertEqual(r[0], {"ok": True, "matched": False, "note": "duplicate within 5 s"})
        testing.advance_kv_clock(6000)
        r = testing.evaluate(Dedupe, [{"window_s": 5}], {"body": "hi"}, scopes=["b"])
        self.assertTrue(r[0]["matched"])
        r = testing.evaluate(Dedupe, [{}], {"body": "explode"})
        self.assertEqual(r, [{"ok": False, "error": "cannot decide"}])
        testing.take_logs()
        r = testing.evaluate(Dedupe, [{}], {"body": "bug"})
        self.assertEqual(r, [{"ok": False, "error": "KeyError: 'missing'"}])
        self.assertEqual(testing.take_logs()[-1]["level"], "error")

    def test_verdict_helpers_and_bad_returns(self):
        answers = iter([Verdict.pass_("why"), Verdict.block("no"), "yes"])
        f = define_filter(id="f", name="F", version="0.1.0", description="d", evaluate=lambda c, m: next(answers))
        r = testing.evaluate(f, [{}, {}, {}])
        self.assertEqual(r[0], {"ok": True, "matched": True, "note": "why"})
        self.assertEqual(r[1], {"ok": True, "matched": False, "note": "no"})
        self.assertFalse(r[2]["ok"])
        self.assertIn("evaluate must return a bool or a Verdict", r[2]["error"])

    def test_kv_is_unavailable_in_validate(self):
        f = define_filter(id="f", name="F", version="0.1.0", description="d",
                          validate=lambda c: kv.get("x"), evaluate=lambda c, m: True)
        self.assertEqual(testing.validate_config(f, {})["message"],
                         "config rejected: unavailable: no key-value bucket in this call (only send and evaluate get one)")

    def test_message_fields(self):
        seen = []
        f = define_filter(id="f", name="F", version="0.1.0", description="d", evaluate=lambda c, m: seen.append(m) or True)
        testing.evaluate(f, [{}], {"title": "T", "extras": {"k": "v"}, "tags": ["a"], "priority": 5})
        m = seen[0]
        self.assertEqual((m.title, m.body, m.priority, m.tags, m.extras, m.extras_dict), ("T", "Test message", 5, ["a"], [("k", "v")], {"k": "v"}))
        self.assertEqual(len(m.id), 32)
        self.assertTrue(m.received_at.endswith("Z"))


class DefinitionTest(unittest.TestCase):
    def test_definitions_are_checked(self):
        with self.assertRaisesRegex(TypeError, "id must be"):
            define_channel(id="Bad Id", name="x", version="0.1.0", description="d", send=lambda *a: None)
        with self.assertRaisesRegex(TypeError, "semver"):
            define_channel(id="ok", name="x", version="1", description="d", send=lambda *a: None)
        with self.assertRaisesRegex(TypeError, "evaluate must be a function"):
            define_filter(id="ok", name="x", version="0.1.0", description="d", evaluate=None)
        with self.assertRaisesRegex(TypeError, "anyOf"):
            define_filter(id="ok", name="x", version="0.1.0", description="d", evaluate=lambda c, m: True,
                          config={"type": "object", "properties": {"a": {"anyOf": []}}})
        with self.assertRaisesRegex(TypeError, "config must be a dataclass or a JSON Schema dict"):
            define_filter(id="ok", name="x", version="0.1.0", description="d", evaluate=lambda c, m: True, config=5)


if __name__ == "__main__":
    unittest.main()
