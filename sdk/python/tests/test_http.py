import unittest

from beacon_plugin import SNIPPET_MAX_CHARS, FetchError, SendError, snippet, testing
from beacon_plugin import http
from beacon_plugin._native_host import state
from beacon_plugin.http import Response, classify_status, parse_retry_after, status_error


class ClassifierTest(unittest.TestCase):
    def test_classifier(self):
        self.assertEqual(classify_status(200), "success")
        self.assertEqual(classify_status(204), "success")
        for s in (408, 425, 429, 500, 502, 503, 599):
            self.assertEqual(classify_status(s), "retryable", s)
        for s in (400, 401, 403, 404, 410, 413, 422, 301, 302, 100, 600):
            self.assertEqual(classify_status(s), "permanent", s)

    def test_retry_after(self):
        self.assertEqual(parse_retry_after("120"), 120000)
        self.assertEqual(parse_retry_after(" 0 "), 0)
        self.assertIsNone(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"))
        self.assertIsNone(parse_retry_after("-1"))
        self.assertIsNone(parse_retry_after("1.5"))
        self.assertIsNone(parse_retry_after("٣"))  # not ASCII digits
        self.assertIsNone(parse_retry_after(""))
        self.assertIsNone(parse_retry_after(None))
        self.assertEqual(parse_retry_after("9" * 30), 2**53 - 1)


class ResponseTest(unittest.TestCase):
    def test_error_for_status_classifies_and_records_the_response(self):
        ok = Response(200, [], b'{"a": 1}').into_outcome()
        self.assertEqual((ok.http_status, ok.response_snippet, ok.response_json), (200, '{"a": 1}', '{"a":1}'))

        with self.assertRaises(SendError) as cm:
            Response(429, [("retry-after", "7")], b"slow down").error_for_status()
        self.assertEqual(
            (cm.exception.kind, cm.exception.failure()),
            ("retryable", {"message": "HTTP 429: slow down", "retry_after_ms": 7000, "http_status": 429,
                           "response_snippet": "slow down", "response_json": None}),
        )

        e503 = status_error("retryable", 503, b"", None)
        self.assertEqual(e503.message, "HTTP 503")
        self.assertTrue(e503.is_retryable)

        body = b'{"code": 400, "message": "failed to get device token"}'
        e400 = status_error("permanent", 400, body, 5000)
        self.assertEqual(
            (e400.kind, e400.failure()),
            ("permanent", {
                "message": 'HTTP 400: {"code": 400, "message": "failed to get device token"}',
                "retry_after_ms": None,
                "http_status": 400,
                "response_snippet": '{"code": 400, "message": "failed to get device token"}',
                "response_json": '{"code":400,"message":"failed to get device token"}',
            }),
        )

        long = "x" * 1000
        e = status_error("permanent", 400, long.encode())
        self.assertLess(len(e.message), 220)
        self.assertTrue(e.message.endswith("…"))
        self.assertEqual(e.response_snippet, long)

    def test_snippet_caps_on_characters(self):
        self.assertIsNone(snippet(b""))
        long = "é" * (SNIPPET_MAX_CHARS + 10)
        s = snippet(long.encode())
        self.assertEqual(len(s), SNIPPET_MAX_CHARS + 1)
        self.assertTrue(s.endswith("…"))
        self.assertEqual(snippet(bytes([0xFF, 0x61])), "\ufffda")
        self.assertEqual(snippet("😀" * SNIPPET_MAX_CHARS), "😀" * SNIPPET_MAX_CHARS)

    def test_header_lookup_is_case_insensitive(self):
        r = Response(200, [("x-thing", "y")], b"")
        self.assertEqual(r.header("X-Thing"), "y")
        self.assertIsNone(r.header("nope"))


class RequestTest(unittest.TestCase):
    def setUp(self):
        testing.reset()
        state.fetch_allowed = True  # fetch is only allowed inside send (as on the host)

    def tearDown(self):
        testing.reset()

    def test_request_goes_through_the_mocked_host_fetch(self):
        def handler(req):
            self.assertEqual(req.method, "POST")
            self.assertEqual(req.header("Content-Type"), "application/json")
            self.assertEqual(req.json(), {"a": 1})
            self.assertEqual(req.timeout_ms, 1500)
            self.assertFalse(req.follow_redirects)
            return testing.response(201, {"id": "x"}, {"X-Thing": "y"})

        testing.mock_fetch(handler)
        res = http.post("https://example.com/hook", json={"a": 1}, timeout_ms=1500.7)
        self.assertEqual(res.status, 201)
        self.assertEqual(res.header("x-thing"), "y")
        self.assertEqual(res.json(), {"id": "x"})
        self.assertEqual(len(testing.requests()), 1)
        self.assertEqual(testing.requests()[0].text, '{"a":1}')

        def timeout(req):
            raise testing.fetch_error("timeout")

        testing.mock_fetch(timeout)
        with self.assertRaises(FetchError) as cm:
            http.get("https://example.com/")
        self.assertEqual(cm.exception.kind, "timeout")
        self.assertTrue(cm.exception.retryable)
        self.assertEqual(cm.exception.message, "request timed out")

    def test_fetch_error_messages_and_classes(self):
        for kind, detail, message, retryable in [
            ("policy-denied", "address 10.0.0.5 is in a private range", "refused by outbound policy: address 10.0.0.5 is in a private range", False),
            ("timeout", None, "request timed out", True),
            ("connection", "reset", "connection error: reset", True),
            ("body-too-large", 1048576, "body larger than 1048576 bytes", False),
            ("invalid-request", "bad header", "invalid request: bad header", False),
        ]:
            with self.subTest(kind=kind):
                def handler(req, kind=kind, detail=detail):
                    raise testing.fetch_error(kind, detail)

                testing.mock_fetch(handler)
                with self.assertRaises(FetchError) as cm:
                    http.get("https://example.com/")
                self.assertEqual(cm.exception.kind, kind)
                self.assertEqual(cm.exception.message, message)
                self.assertEqual(cm.exception.to_send_error().kind, "retryable" if retryable else "permanent")

    def test_body_and_json_are_exclusive(self):
        with self.assertRaises(TypeError):
            http.post("https://example.com/", body="x", json={})

    def test_no_handler_or_outside_send_is_a_policy_refusal(self):
        with self.assertRaises(FetchError) as cm:
            http.get("https://example.com/")
        self.assertEqual(cm.exception.kind, "policy-denied")
        state.fetch_allowed = False
        testing.mock_fetch(lambda req: testing.response(200))
        with self.assertRaises(FetchError) as cm:
            http.get("https://example.com/")
        self.assertIn("not available in describe or validate-config", cm.exception.message)


if __name__ == "__main__":
    unittest.main()
