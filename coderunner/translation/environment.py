"""The Jinja2 sandbox that mapping expressions and templates run in, and its filters.

Two habits differ from stock Jinja, both for JSON records:

* ``order.items`` is the record's ``items`` field, not ``dict.items``: a dict
  key wins over a method of the same name.
* Reaching for an unsafe attribute (``''.__class__``) raises ``SecurityError``
  at once instead of yielding an undefined value, so a sandbox escape attempt
  is always an error, never a silent ``None``.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape as _xml_escape

from jinja2 import ChainableUndefined, StrictUndefined, Undefined
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from markupsafe import Markup

# Sizes past which ``*`` and ``**`` are refused: a template must not eat the worker's memory.
MAX_REPEAT = 1_000_000
MAX_EXPONENT = 1_000


class TranslationSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object")

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is larger than {MAX_EXPONENT}")
            return left**right
        for sequence, count in ((left, right), (right, left)):
            if (
                isinstance(sequence, str | list | tuple)
                and isinstance(count, int)
                and len(sequence) * count > MAX_REPEAT
            ):
                raise SecurityError(f"repeating a sequence to more than {MAX_REPEAT} items")
        return left * right


def _json_default(value: Any) -> Any:
    if isinstance(value, Undefined):
        str(value)  # a template's StrictUndefined raises its "'x' is undefined" error here
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def tojson(value: Any, indent: int | None = None) -> str:
    """JSON text of ``value``; in an XML/HTML template it is escaped like any other text."""
    return json.dumps(value, ensure_ascii=False, indent=indent, default=_json_default)


def xml_escape(value: Any) -> Markup:
    """``value`` safe in XML text and attribute values (``& < > " '`` escaped)."""
    text = "" if value is None else str(value)
    return Markup(_xml_escape(text, {'"': "&quot;", "'": "&apos;"}))  # noqa: S704 - escaped


def csv_quote(value: Any, delimiter: str = ",") -> str:
    """One CSV field: quoted (inner quotes doubled) when it holds a delimiter, quote or newline."""
    if value is None:
        return ""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if delimiter in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_row(values: Any, delimiter: str = ",") -> str:
    """One CSV line (without its line break) from a list of values."""
    return delimiter.join(csv_quote(value, delimiter) for value in values)


def dig(value: Any, path: str, default: Any = None) -> Any:
    """``record | dig("customer.address.city")``: the value at a dotted path, or ``default``.

    Numeric segments index lists (``items.0.sku``). Never fails on a missing step,
    unlike ``a.b.c`` under a strict template.
    """
    for key in str(path).split("."):
        if isinstance(value, dict):
            if key not in value:
                return default
            value = value[key]
        elif isinstance(value, list) and key.lstrip("-").isdigit():
            try:
                value = value[int(key)]
            except IndexError:
                return default
        else:
            return default
    return default if isinstance(value, Undefined) else value


def format_date(value: Any, format: str = "%Y-%m-%d") -> str:
    """Format a date, a datetime, an ISO-8601 string or epoch seconds; ``"iso"`` gives ISO-8601."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO-8601 date or date-time") from None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        value = datetime.fromtimestamp(value, tz=UTC)
    elif not isinstance(value, date):
        raise ValueError(f"cannot format {type(value).__name__} as a date")
    return value.isoformat() if format == "iso" else value.strftime(format)


def now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


FILTERS = {
    "tojson": tojson,
    "xml_escape": xml_escape,
    "csv": csv_quote,
    "csv_row": csv_row,
    "dig": dig,
    "date": format_date,
}


def make_environment(*, strict: bool, autoescape: bool = False) -> TranslationSandbox:
    """A sandbox: strict (templates: a missing variable is an error) or lenient (mappings)."""
    environment = TranslationSandbox(
        undefined=StrictUndefined if strict else ChainableUndefined,
        autoescape=autoescape,
        keep_trailing_newline=True,
    )
    environment.filters.update(FILTERS)
    environment.globals["now"] = now
    return environment
