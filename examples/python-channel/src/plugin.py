"""py-webhook: example channel plugin in Python.

POSTs the rule's rendered payload template, unchanged, as the JSON body of a
request to ``config.url`` (with an optional bearer token). When the rule has
no template (it renders to nothing or ``{}``), a JSON summary of the message
is sent instead. Status handling is the SDK default: 2xx ok; 408/425/429/5xx
retryable (honouring Retry-After); other statuses permanent. Built with
``../../sdk/python/bin/beacon-plugin-build src/plugin.py -o dist/py_webhook.wasm``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlsplit

from beacon_plugin import ConfigError, Message, SendError, check_http_url, define_channel, field, http, log, secret

VERSION = "0.1.0"


@dataclass
class Config:
    url: str = field(description="Absolute http(s) URL to POST to.")
    token: Optional[str] = secret(None, description="Optional bearer token, sent as `Authorization: Bearer <token>`.")
    timeout_ms: Optional[int] = field(
        None, description="Request timeout in milliseconds (the host caps it).", minimum=100, maximum=120000
    )


def validate(config: Config) -> None:
    """Checks beyond the schema (the schema already checked types and ranges)."""
    check_http_url("url", config.url)
    if config.token is not None and any(c in config.token for c in "\r\n\0"):
        raise ConfigError("token", "must not contain line breaks")


def body_for(payload_json: str, message: Message) -> str:
    """The JSON text to send (pure): the rendered template, or a description
    of the message when the rule has no template."""
    template = {}
    if payload_json.strip() != "":
        try:
            template = json.loads(payload_json)
        except ValueError as err:
            raise SendError.permanent(f"the payload template did not render to valid JSON: {err}") from None
    if template != {}:
        return json.dumps(template, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(
        {
            "id": message.id,
            "received_at": message.received_at,
            "title": message.title,
            "body": message.body,
            "group": message.group,
            "priority": message.priority,
            "tags": message.tags,
            "url": message.url,
            "extras": message.extras_dict,
            "endpoint": {"id": message.endpoint_id, "name": message.endpoint_name},
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def build_request(config: Config, body: str) -> dict:
    """The request to make (pure; ``send`` only adds the network call)."""
    headers = {"content-type": "application/json", "user-agent": f"beacon-py-webhook/{VERSION}"}
    if config.token:
        headers["authorization"] = f"Bearer {config.token}"
    return {"method": "POST", "url": config.url, "headers": headers, "body": body, "timeout_ms": config.timeout_ms}


def send(config: Config, payload_json: str, message: Message):
    log.info(f"delivering {message.id} to {urlsplit(config.url).netloc}")  # never log the token
    req = build_request(config, body_for(payload_json, message))
    response = http.request(req.pop("method"), req.pop("url"), **req)
    log.debug(f"answer: HTTP {response.status}")
    return response.into_outcome()


ChannelApi = define_channel(
    id="py-webhook",
    name="Python webhook (example)",
    version=VERSION,
    description="Example Python plugin: POSTs the rule's rendered payload as JSON to a URL (unsigned).",
    config=Config,
    validate=validate,
    send=send,
)
