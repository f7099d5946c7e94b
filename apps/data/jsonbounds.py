"""Bounds on JSON that users send: how deep it nests, and text that cannot be stored.

Deeply nested documents exhaust the interpreter's recursion in the parser, the
schema validators and the serializers (a 500 instead of an answer); a lone
UTF-16 surrogate (``"\\ud800"``) parses in Python but cannot be encoded as
UTF-8, so a record holding one breaks every page that shows it. Both are
refused where JSON comes in: the API's parser, the admin's JSON fields and the
records service.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# Far deeper than any real record or schema; far below what recursion allows.
MAX_JSON_DEPTH = 100
LONE_SURROGATE = (
    "The JSON holds a lone UTF-16 surrogate (such as \\ud800), which is not text; "
    "send characters, or pairs of surrogates."
)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def depth_problem(value: Any, limit: int = MAX_JSON_DEPTH) -> str | None:
    """A message if ``value`` nests objects/arrays deeper than ``limit`` levels, else None."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return f"The JSON nests deeper than {limit} levels."
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return None


def surrogate_problem(value: Any) -> str | None:
    """A message if a text in ``value`` (keys included) holds a lone UTF-16 surrogate."""
    try:
        orjson.dumps(value)  # strict UTF-8, in C: ~0.3 µs for a 400-byte record
        return None
    except TypeError as error:
        if "surrogates" in str(error):
            return LONE_SURROGATE
    # Something orjson does not write (an integer past 64 bits…): the slow, exact way.
    # ensure_ascii: any surrogate, lone or paired, shows as \udXXX.
    try:
        if not _SURROGATE_ESCAPE.search(json.dumps(value, default=str)):
            return None
        json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        return LONE_SURROGATE
    except RecursionError:  # too deep to look at: the depth bounds say so where they apply
        return None
    return None


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON (numbers are finite)")


def loads(text: str | bytes) -> Any:
    """Strict json.loads (no NaN or Infinity) that says "too deep" instead of raising
    RecursionError."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError(f"The JSON nests deeper than {MAX_JSON_DEPTH} levels.") from None


def problem(value: Any) -> str | None:
    """What is wrong with parsed JSON a user sent (too deep, lone surrogates), or None."""
    return depth_problem(value) or surrogate_problem(value)
