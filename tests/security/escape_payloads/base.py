"""What a payload is, and the two ways to write one."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

KINDS = ("algorithm", "template", "mapping", "webhook_body")
JINJA_KINDS = ("template", "mapping", "webhook_body")


@dataclass(frozen=True)
class Payload:
    """``source`` run as ``kind`` (an algorithm body, an export template, a Jinja mapping
    field, a webhook body template); ``expect`` matches ``"<outcome>: <message>"``."""

    id: str
    family: str
    kind: str
    source: str
    expect: str
    time_limit: float = 1.0
    seconds: float | None = None  # the most its whole run may take, when tighter than the rest


def code(
    family: str,
    id: str,
    source: str,
    expect: str,
    *,
    time_limit: float = 1.0,
    seconds: float | None = None,
) -> Payload:
    """An algorithm body."""
    source = textwrap.dedent(source).strip()
    return Payload(id, family, "algorithm", source, expect, time_limit, seconds)


def jinja(
    family: str, id: str, source: str, expect: str, *, kinds: tuple[str, ...] = JINJA_KINDS
) -> list[Payload]:
    """A Jinja2 text, once per kind: export template, mapping field, webhook body."""
    return [Payload(f"{id}[{kind}]", family, kind, source, expect) for kind in kinds]
