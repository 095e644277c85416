"""py-keyword: example filter plugin in Python.

A rule using it matches a message whose title or body (configurable)
contains any of the configured keywords; the verdict's note names the
keyword that matched (or says that none did), and the user sees it beside
the message. Case-insensitive unless ``case_sensitive`` is set. Built with
``../../sdk/python/bin/beacon-plugin-build src/plugin.py -o dist/py_keyword.wasm``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Literal, Optional

from beacon_plugin import ConfigError, Message, Verdict, define_filter, field

VERSION = "0.1.0"

Field = Literal["title", "body"]


@dataclass
class Config:
    keywords: List[str] = field(
        description="Words or phrases; the rule matches when any of them occurs.",
        min_items=1,
        max_items=100,
        schema={"items": {"type": "string", "minLength": 1, "maxLength": 200}},
    )
    fields: List[Field] = field(
        default_factory=lambda: ["title", "body"],
        description="Which parts of the message to search.",
        min_items=1,
    )
    case_sensitive: bool = field(False, description="Match upper/lower case exactly.")


def validate(config: Config) -> None:
    """Checks beyond the schema: no blank keyword, no duplicates."""
    seen = set()
    for i, keyword in enumerate(config.keywords):
        if keyword.strip() == "":
            raise ConfigError(f"keywords[{i}]", "must not be blank")
        key = keyword if config.case_sensitive else keyword.casefold()
        if key in seen:
            raise ConfigError(f"keywords[{i}]", f"repeats {keyword!r}")
        seen.add(key)


def first_match(config: Config, message: Message) -> Optional[tuple]:
    """(field, keyword) of the first keyword found, or None (pure)."""
    fold = (lambda s: s) if config.case_sensitive else str.casefold
    for name in config.fields:
        text = message.title if name == "title" else message.body
        if not text:
            continue
        haystack = fold(text)
        for keyword in config.keywords:
            if fold(keyword) in haystack:
                return name, keyword
    return None


def evaluate(config: Config, message: Message) -> Verdict:
    found = first_match(config, message)
    if found is None:
        return Verdict.block(f"no keyword in the {' or '.join(config.fields)}")
    name, keyword = found
    return Verdict.pass_(f"the {name} contains {keyword!r}")


FilterApi = define_filter(
    id="py-keyword",
    name="Keyword match (Python example)",
    version=VERSION,
    description="Example Python filter: matches messages whose title or body contains one of the configured keywords.",
    config=Config,
    validate=validate,
    evaluate=evaluate,
)
