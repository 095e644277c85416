"""Unit tests: the plugin's logic under plain CPython, host calls mocked by
the SDK's test harness (no component build needed).

    python3 -m unittest discover -s tests
"""

import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "src"), os.path.join(HERE, "..", "..", "..", "sdk", "python")]

from beacon_plugin import Message, SendError, testing  # noqa: E402

from plugin import VERSION, ChannelApi, Config, body_for, build_request  # noqa: E402

URL_OK = "https://hooks.example.com/beacon"


def sample_message(**overrides) -> Message:
    return Message.from_wit(testing.message(**overrides))


class DescribeTest(unittest.TestCase):
    def test_describe_marks_the_token_secret(self):
        info = testing.describe(ChannelApi)
        self.assertEqual(info["id"], "py-webhook")
        self.assertEqual(info["kind"], "channel")
        self.assertEqual(info["version"], VERSION)
        self.assertEqual(info["schema"]["required"], ["url"])
        self.assertIs(info["schema"]["properties"]["token"]["x-secret"], True)
        self.assertIs(info["schema"]["properties"]["token"]["writeOnly"], True)
        self.assertIs(info["schema"]["additionalProperties"], False)


class ValidateTest(unittest.TestCase):
    def test_accepts_good_configs_and_names_the_bad_field(self):
        v = lambda config: testing.validate_config(ChannelApi, config)  # noqa: E731
        self.assertIsNone(v({"url": URL_OK}))
        self.assertIsNone(v({"url": URL_OK, "token": "t", "timeout_ms": 5000}))
        self.assertEqual(v({}), {"field": "url", "message": "missing field `url`"})
        self.assertEqual(v({"url": "ftp://x"}), {"field": "url", "message": "must be an absolute http:// or https:// URL"})
        self.assertEqual(v({"url": "https://user:pw@x.example"})["field"], "url")
        self.assertEqual(v({"url": URL_OK, "timeout_ms": 50}), {"field": "timeout_ms", "message": "must be at least 100"})
        self.assertEqual(v({"url": URL_OK, "token": "a\nb"})["field"], "token")
        self.assertEqual(v({"url": URL_OK, "token": 5})["field"], "token")
        self.assertEqual(v({"url": URL_OK, "extra": 1})["field"], "extra")


class PureTest(unittest.TestCase):
    def test_body_for_sends_the_template_unchanged_or_a_message_summary(self):
        msg = sample_message(id="a" * 32, title="T", extras={"k": "v"})
        self.assertEqual(body_for('{"text": "hi", "n": [1, 2]}', msg), '{"text":"hi","n":[1,2]}')
        self.assertEqual(body_for("[1]", msg), "[1]")
        self.assertEqual(body_for('"x"', msg), '"x"')
        for empty in ("", "  ", "{}"):
            summary = json.loads(body_for(empty, msg))
            self.assertEqual(summary["id"], "a" * 32)
            self.assertEqual(summary["title"], "T")
            self.assertIsNone(summary["group"])
            self.assertEqual(summary["extras"], {"k": "v"})
        with self.assertRaises(SendError) as cm:
            body_for("{nope", msg)
        self.assertEqual(cm.exception.kind, "permanent")
        self.assertIn("valid JSON", cm.exception.message)

    def test_build_request_adds_the_bearer_token_and_timeout(self):
        self.assertEqual(
            build_request(Config(url=URL_OK, token="s3cret", timeout_ms=3000), "{}"),
            {
                "method": "POST",
                "url": URL_OK,
                "headers": {
                    "content-type": "application/json",
                    "user-agent": f"beacon-py-webhook/{VERSION}",
                    "authorization": "Bearer s3cret",
                },
                "body": "{}",
                "timeout_ms": 3000,
            },
        )
        self.assertNotIn("authorization", build_request(Config(url=URL_OK), "{}")["headers"])


class SendTest(unittest.TestCase):
    def setUp(self):
        testing.reset()

    def test_posts_the_payload_and_records_the_answer(self):
        testing.mock_fetch(lambda req: testing.response(200, '{"received": true}'))
        r = testing.send(ChannelApi, config={"url": URL_OK, "token": "s3cret"}, payload={"a": 1})
        self.assertEqual(r, {"ok": True, "outcome": {"http_status": 200, "response_snippet": '{"received": true}', "response_json": '{"received":true}'}})
        [req] = testing.requests()
        self.assertEqual(req.method, "POST")
        self.assertEqual(req.url, URL_OK)
        self.assertEqual(req.text, '{"a":1}')
        self.assertEqual(req.header("authorization"), "Bearer s3cret")
        self.assertFalse(req.follow_redirects)
        logs = testing.take_logs()
        self.assertTrue(any(l["level"] == "info" and "hooks.example.com" in l["message"] for l in logs))
        self.assertTrue(all("s3cret" not in l["message"] for l in logs), "the token is never logged")

    def test_classifies_failures(self):
        testing.mock_fetch(lambda req: testing.response(429, "slow down", {"Retry-After": "30"}))
        r = testing.send(ChannelApi, config={"url": URL_OK}, payload={"a": 1})
        self.assertEqual(
            (r["error"]["kind"], r["error"]["retry_after_ms"], r["error"]["http_status"], r["error"]["message"]),
            ("retryable", 30_000, 429, "HTTP 429: slow down"),
        )

        testing.mock_fetch(lambda req: testing.response(400, '{"code":400,"message":"bad"}'))
        r = testing.send(ChannelApi, config={"url": URL_OK}, payload={"a": 1})
        self.assertEqual(r["error"]["kind"], "permanent")
        self.assertEqual(r["error"]["response_json"], '{"code":400,"message":"bad"}')

        def timeout(req):
            raise testing.fetch_error("timeout")

        testing.mock_fetch(timeout)
        r = testing.send(ChannelApi, config={"url": URL_OK}, payload={"a": 1})
        self.assertEqual((r["error"]["kind"], r["error"]["message"]), ("retryable", "request timed out"))

        r = testing.send(ChannelApi, config={"url": URL_OK}, payload="{broken")
        self.assertEqual(r["error"]["kind"], "permanent")
        self.assertIn("did not render to valid JSON", r["error"]["message"])

        r = testing.send(ChannelApi, config={}, payload={"a": 1})
        self.assertEqual((r["error"]["kind"], r["error"]["message"]), ("permanent", "invalid channel config: url: missing field `url`"))


if __name__ == "__main__":
    unittest.main()
