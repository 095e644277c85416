//! The Python project: the Python SDK vendored (`vendor/beacon-plugin-sdk`),
//! tests under plain CPython with the standard library's `unittest`, and a
//! component built with componentize-py by the SDK's build command.

use super::{fill, Kind};

pub(super) fn files(name: &str, kind: Kind) -> Vec<(&'static str, String)> {
    let (source, test) = match kind {
        // `create` refuses adapters in this language before asking.
        Kind::Channel | Kind::Adapter => (CHANNEL_PY, CHANNEL_TEST),
        Kind::Filter => (FILTER_PY, FILTER_TEST),
    };
    vec![
        ("src/plugin.py", fill(source, name, kind)),
        ("tests/test_plugin.py", fill(test, name, kind)),
        ("build.sh", fill(BUILD_SH, name, kind)),
        ("README.md", fill(README, name, kind)),
        (
            ".gitignore",
            "/dist\n__pycache__/\n/vendor/beacon-plugin-sdk/.venv\n".to_string(),
        ),
    ]
}

const BUILD_SH: &str = r#"#!/bin/sh
# Builds dist/{{artifact}}.wasm: `sh build.sh`. The first run sets up the
# pinned build tools (componentize-py, wasm-tools) in
# vendor/beacon-plugin-sdk/.venv.
set -e
cd "$(dirname "$0")"
exec sh vendor/beacon-plugin-sdk/bin/beacon-plugin-build src/plugin.py -o dist/{{artifact}}.wasm --wit vendor/wit/plugin.wit "$@"
"#;

const CHANNEL_PY: &str = r#""""{{name}}: a channel plugin for Beacon Spear. It POSTs the rule's rendered
payload template as JSON to a URL, with an optional bearer token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from beacon_plugin import Message, check_http_url, define_channel, field, http, log, secret

VERSION = "0.1.0"


@dataclass
class Config:
    url: str = field(description="Where to POST, an absolute http(s) URL.")
    token: Optional[str] = secret(None, description="Sent as `Authorization: Bearer <token>` when set.")


def validate(config: Config) -> None:
    check_http_url("url", config.url)


def send(config: Config, payload_json: str, message: Message):
    log.debug(f"sending message {message.id}")  # never log the token
    headers = {"content-type": "application/json"}
    if config.token:
        headers["authorization"] = f"Bearer {config.token}"
    # 2xx sent; 408/425/429/5xx retried (with Retry-After); other answers final.
    return http.request("POST", config.url, headers=headers, body=payload_json).into_outcome()


ChannelApi = define_channel(
    id="{{name}}",
    name="{{name}}",
    version=VERSION,
    description="POSTs the rendered payload as JSON to a URL.",
    config=Config,
    validate=validate,
    send=send,
)
"#;

const CHANNEL_TEST: &str = r#""""The plugin's logic under plain CPython, host calls mocked by the SDK's
test harness: `python3 -m unittest discover -s tests`."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "src"), os.path.join(HERE, "..", "vendor", "beacon-plugin-sdk")]

from beacon_plugin import testing  # noqa: E402

from plugin import ChannelApi  # noqa: E402


class SendTest(unittest.TestCase):
    def setUp(self):
        testing.reset()

    def test_posts_the_payload_with_the_token(self):
        testing.mock_fetch(lambda req: testing.response(200, "{}"))
        sent = testing.send(ChannelApi, config={"url": "https://hooks.example.com/in", "token": "t0ken"}, payload={"text": "hi"})
        self.assertTrue(sent["ok"], sent)
        [request] = testing.requests()
        self.assertEqual(request.url, "https://hooks.example.com/in")
        self.assertEqual(request.header("authorization"), "Bearer t0ken")
        self.assertEqual(request.text, '{"text":"hi"}')

    def test_server_errors_are_retried_and_bad_urls_refused(self):
        testing.mock_fetch(lambda req: testing.response(503, ""))
        failed = testing.send(ChannelApi, config={"url": "https://h.example/x"}, payload={})
        self.assertEqual(failed["error"]["kind"], "retryable")
        self.assertEqual(testing.validate_config(ChannelApi, {"url": "ftp://h/x"})["field"], "url")


if __name__ == "__main__":
    unittest.main()
"#;

const FILTER_PY: &str = r#""""{{name}}: a filter plugin for Beacon Spear. A rule using it matches
messages whose body contains a word (case-insensitive)."""

from __future__ import annotations

from dataclasses import dataclass

from beacon_plugin import ConfigError, Message, Verdict, define_filter, field

VERSION = "0.1.0"


@dataclass
class Config:
    word: str = field(description="The word the body must contain.")


def validate(config: Config) -> None:
    if config.word.strip() == "":
        raise ConfigError("word", "must not be empty")


def evaluate(config: Config, message: Message) -> Verdict:
    if config.word.casefold() in message.body.casefold():
        return Verdict.pass_(f"the body contains {config.word!r}")
    return Verdict.block()


FilterApi = define_filter(
    id="{{name}}",
    name="{{name}}",
    version=VERSION,
    description="Matches messages whose body contains a word.",
    config=Config,
    validate=validate,
    evaluate=evaluate,
)
"#;

const FILTER_TEST: &str = r#""""The plugin's logic under plain CPython (no component build needed):
`python3 -m unittest discover -s tests`."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "src"), os.path.join(HERE, "..", "vendor", "beacon-plugin-sdk")]

from beacon_plugin import testing  # noqa: E402

from plugin import FilterApi  # noqa: E402


class EvaluateTest(unittest.TestCase):
    def setUp(self):
        testing.reset()

    def test_matches_the_word_in_any_case(self):
        [hit] = testing.evaluate(FilterApi, [{"word": "disk"}], {"body": "DISK full"})
        self.assertTrue(hit["matched"], hit)
        [miss] = testing.evaluate(FilterApi, [{"word": "disk"}], {"body": "all good"})
        self.assertFalse(miss["matched"])
        self.assertEqual(testing.validate_config(FilterApi, {"word": " "})["field"], "word")


if __name__ == "__main__":
    unittest.main()
"#;

const README: &str = r#"# {{name}}

A Beacon Spear {{kind}} plugin in Python, made with `beacon plugin new`.

```sh
python3 -m unittest discover -s tests   # plain CPython 3.10+, no build needed
sh build.sh                             # writes dist/{{artifact}}.wasm (first run installs the build tools)
beacon plugin check dist/{{artifact}}.wasm
```

`beacon plugin run dist/{{artifact}}.wasm --config '{...}'` tries it against a
sample message without a server; an operator installs it with `beacon plugin
install` or the dashboard. The SDK (and the WIT it builds against) sits in
`vendor/`; its README explains the config dataclass and validation, the HTTP
helper, `kv`, logging and the test harness. The component embeds CPython
(about 18 MB); the host runs it like any other.
"#;
