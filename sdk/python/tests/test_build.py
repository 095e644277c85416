"""The build derives the component's world from what the plugin module
imports: only the capabilities a plugin uses may appear."""

import tempfile
import textwrap
import unittest
from pathlib import Path

from beacon_plugin.build import BuildError, analyse, world_text


def analysed(source: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        entry = Path(tmp) / "plugin_under_test.py"
        entry.write_text(textwrap.dedent(source))
        return analyse(entry)


class AnalyseTest(unittest.TestCase):
    def test_a_filter_uses_no_http(self):
        info = analysed("""
            from beacon_plugin import define_filter, kv
            FilterApi = define_filter(id="f", name="F", version="0.1.0", description="d",
                                      evaluate=lambda c, m: kv.add(m.id, "x"))
        """)
        self.assertEqual(info["exports"], {"FilterApi": {"id": "f", "version": "0.1.0", "kind": "filter"}})
        self.assertFalse(info["http"])

    def test_a_channel_using_http_gets_http(self):
        info = analysed("""
            from beacon_plugin import define_channel, http
            ChannelApi = define_channel(id="c", name="C", version="0.1.0", description="d",
                                        send=lambda c, p, m: http.post(c["url"], body="{}"))
        """)
        self.assertEqual(list(info["exports"]), ["ChannelApi"])
        self.assertTrue(info["http"])

    def test_exactly_one_export(self):
        with self.assertRaisesRegex(BuildError, "exactly one of `ChannelApi`"):
            analysed("X = 1\n")

    def test_import_errors_are_reported(self):
        with self.assertRaisesRegex(BuildError, "ModuleNotFoundError"):
            analysed("import no_such_module_here\n")

    def test_world(self):
        self.assertEqual(
            world_text("0.3.0", {"log", "http"}, "channel-api"),
            "package beacon-spear:py-plugin;\n\nworld plugin {\n"
            "  import beacon:plugin/http@0.3.0;\n  import beacon:plugin/log@0.3.0;\n"
            "  export beacon:plugin/channel-api@0.3.0;\n}\n",
        )


if __name__ == "__main__":
    unittest.main()
