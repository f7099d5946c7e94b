"""Cenit's observer operators, evaluated on a record and its previous state.

A condition is ``{"field": "address.city", "op": "is", "value": "Paris"}``;
a list of conditions holds when all of them do. ``previous`` is None for a
record just created.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError

from ..models.events import OPERATORS

_MISSING = object()
NEEDS_VALUE = {
    "is",
    "is_not",
    "like",
    "starts_with",
    "ends_with",
    "in",
    "not_in",
    "between",
    "gt",
    "gte",
    "lt",
    "lte",
}


def check_conditions(conditions: Any) -> None:
    """Raise ValidationError saying which condition is malformed and why."""
    if not isinstance(conditions, list):
        raise ValidationError({"conditions": "A list of {field, op, value} objects."})
    for number, condition in enumerate(conditions, start=1):
        where = f"Condition #{number}"
        if not isinstance(condition, dict) or not condition.get("field"):
            raise ValidationError({"conditions": f"{where}: needs a 'field'."})
        op = condition.get("op")
        if op not in OPERATORS:
            raise ValidationError(
                {"conditions": f"{where}: unknown operator {op!r}; one of {sorted(OPERATORS)}."}
            )
        if op in NEEDS_VALUE and "value" not in condition:
            raise ValidationError({"conditions": f"{where}: {op!r} needs a 'value'."})
        value = condition.get("value")
        if op in {"in", "not_in"} and not isinstance(value, list):
            raise ValidationError({"conditions": f"{where}: {op!r} needs a list value."})
        if op == "between" and not (isinstance(value, list) and len(value) == 2):
            raise ValidationError({"conditions": f"{where}: 'between' needs [low, high]."})


def lookup(record: Any, path: str) -> Any:
    node = record
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


@lru_cache(maxsize=256)
def _like(pattern: str) -> re.Pattern:
    # SQL-like: % any run, _ one character; without wildcards, "contains".
    if "%" not in pattern and "_" not in pattern:
        return re.compile(re.escape(pattern), re.IGNORECASE)
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL)


def _compare(op: str, current: Any, value: Any) -> bool:
    try:
        if op == "gt":
            return current > value
        if op == "gte":
            return current >= value
        if op == "lt":
            return current < value
        if op == "lte":
            return current <= value
        if op == "between":
            return value[0] <= current <= value[1]
    except TypeError:  # comparing incomparable types never matches
        return False
    raise AssertionError(op)


def holds(condition: dict, record: dict, previous: dict | None) -> bool:
    op, field = condition["op"], condition["field"]
    value: Any = condition.get("value")  # any JSON; check_conditions() vetted its shape
    current = lookup(record, field)
    if op == "_null":
        return current is _MISSING or current is None
    if op == "_not_null":
        return current is not _MISSING and current is not None
    if op == "_change":
        return previous is None or lookup(previous, field) != current
    if op == "_presence_change":
        before = previous is not None and lookup(previous, field) not in (_MISSING, None)
        return before != (current not in (_MISSING, None))
    if current is _MISSING:
        return op in {"is_not", "not_in"}
    if op == "is":
        return current == value
    if op == "is_not":
        return current != value
    if op == "in":
        return current in value
    if op == "not_in":
        return current not in value
    if op in {"like", "starts_with", "ends_with"}:
        text = str(current)
        if op == "like":
            return bool(_like(str(value)).search(text))
        return text.startswith(str(value)) if op == "starts_with" else text.endswith(str(value))
    return _compare(op, current, value)


def all_hold(conditions: list[dict], record: dict, previous: dict | None) -> bool:
    return all(holds(condition, record, previous) for condition in conditions)
