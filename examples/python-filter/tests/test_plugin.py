"""Unit tests: the filter's logic under plain CPython (no component build).

    python3 -m unittest discover -s tests
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "src"), os.path.join(HERE, "..", "..", "..", "sdk", "python")]

from beacon_plugin import Message, testing  # noqa: E402

from plugin import VERSION, Config, FilterApi, first_match  # noqa: E402


class DescribeTest(unittest.TestCase):
    def test_describe(self):
        info = testing.describe(FilterApi)
        self.assertEqual((info["id"], info["kind"], info["version"]), ("py-keyword", "filter", VERSION))
        props = info["schema"]["properties"]
        self.assertEqual(info["schema"]["required"], ["keywords"])
        self.assertEqual(props["keywords"]["items"], {"type": "string", "minLength": 1, "maxLength": 200})
        self.assertEqual(props["fields"]["items"], {"type": "string", "enum": ["title", "body"]})
        self.assertEqual(props["fields"]["default"], ["title", "body"])
        self.assertIs(props["case_sensitive"]["default"], False)


class ValidateTest(unittest.TestCase):
    def test_names_the_bad_field(self):
        v = lambda config: testing.validate_config(FilterApi, config)  # noqa: E731
        self.assertIsNone(v({"keywords": ["disk full"]}))
        self.assertIsNone(v({"keywords": ["a", "A"], "case_sensitive": True}))
        self.assertEqual(v({}), {"field": "keywords", "message": "missing field `keywords`"})
        self.assertEqual(v({"keywords": []}), {"field": "keywords", "message": "must not be empty"})
        self.assertEqual(v({"keywords": ["ok", ""]}), {"field": "keywords[1]", "message": "must not be empty"})
        self.assertEqual(v({"keywords": ["ok", "  "]}), {"field": "keywords[1]", "message": "must not be blank"})
        self.assertEqual(v({"keywords": ["Disk", "disk"]}), {"field": "keywords[1]", "message": "repeats 'disk'"})
        self.assertEqual(v({"keywords": ["x"], "fields": ["url"]})["field"], "fields[0]")
        self.assertEqual(v({"keywords": ["x"], "case_sensitive": "yes"})["field"], "case_sensitive")
        self.assertEqual(v({"keywords": ["x"], "other": 1})["field"], "other")


class MatchTest(unittest.TestCase):
    def test_first_match(self):
        msg = Message.from_wit(testing.message(title="Backup FAILED", body="disk is full"))
        self.assertEqual(first_match(Config(keywords=["failed"]), msg), ("title", "failed"))
        self.assertIsNone(first_match(Config(keywords=["failed"], case_sensitive=True), msg))
        self.assertEqual(first_match(Config(keywords=["nope", "full"]), msg), ("body", "full"))
        self.assertIsNone(first_match(Config(keywords=["failed"], fields=["body"]), msg))
        self.assertEqual(first_match(Config(keywords=["STRASSE"]), Message.from_wit(testing.message(body="Hauptstraße 1"))), ("body", "STRASSE"))


class EvaluateTest(unittest.TestCase):
    def setUp(self):
        testing.reset()

    def test_one_verdict_per_rule_with_a_note(self):
        r = testing.evaluate(
            FilterApi,
            [{"keywords": ["disk"]}, {"keywords": ["cpu"]}, {"keywords": ["DISK"], "case_sensitive": True}, {"keywords": []}],
            {"title": "Alert", "body": "disk almost full"},
        )
        self.assertEqual(r[0], {"ok": True, "matched": True, "note": "the body contains 'disk'"})
        self.assertEqual(r[1], {"ok": True, "matched": False, "note": "no keyword in the title or body"})
        self.assertEqual(r[2]["matched"], False)
        self.assertEqual(r[3], {"ok": False, "error": "invalid filter config: keywords: must not be empty"})

    def test_a_message_without_title(self):
        r = testing.evaluate(FilterApi, [{"keywords": ["x"], "fields": ["title"]}], {"body": "x"})
        self.assertEqual(r, [{"ok": True, "matched": False, "note": "no keyword in the title"}])


if __name__ == "__main__":
    unittest.main()
