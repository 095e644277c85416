"""Plain Python mirrors of the WIT records a plugin sees or returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple


@dataclass(frozen=True)
class Message:
    """One ingested message (immutable), as ``send`` and ``evaluate`` get it."""

    id: str
    received_at: str
    title: Optional[str]
    body: str
    group: Optional[str]
    priority: int
    tags: List[str]
    url: Optional[str]
    extras: List[Tuple[str, str]]
    endpoint_id: str
    endpoint_name: str

    @property
    def extras_dict(self) -> Dict[str, str]:
        """``extras`` as a dict (a later pair wins on a repeated key)."""
        return dict(self.extras)

    @classmethod
    def from_wit(cls, m) -> "Message":
        return cls(
            id=m.id,
            received_at=m.received_at,
            title=m.title,
            body=m.body,
            group=m.group,
            priority=m.priority,
            tags=list(m.tags),
            url=m.url,
            extras=[(k, v) for k, v in m.extras],
            endpoint_id=m.endpoint_id,
            endpoint_name=m.endpoint_name,
        )


@dataclass
class SendOutcome:
    """What a successful ``send`` observed (the WIT ``send-outcome``)."""

    http_status: Optional[int] = None
    response_snippet: Optional[str] = None
    response_json: Optional[str] = None


@dataclass
class Verdict:
    """A filter's decision on one rule, with an optional note for the user."""

    matched: bool
    note: Optional[str] = None

    @classmethod
    def pass_(cls, note: Optional[str] = None) -> "Verdict":
        """The message passes this rule (``Verdict::pass()`` in Rust)."""
        return cls(True, note)

    @classmethod
    def block(cls, note: Optional[str] = None) -> "Verdict":
        """The message does not pass; say why in ``note``."""
        return cls(False, note)


def header_value(headers, name: str) -> Optional[str]:
    """The first value of header ``name`` (case-insensitive) among
    ``(name, value)`` pairs, or ``None``."""
    lower = name.lower()
    for n, v in headers:
        if n.lower() == lower:
            return v
    return None
