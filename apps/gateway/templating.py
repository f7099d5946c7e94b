"""``{{placeholders}}`` in webhook paths, parameters, headers and body templates.

Rendered by Jinja2's sandbox with StrictUndefined: a template cannot reach
Python internals, and a placeholder without a value is an error naming it
rather than an empty string in a URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, UndefinedError, meta
from jinja2.sandbox import SandboxedEnvironment

from .errors import GatewayError

_environment = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined")


@lru_cache(maxsize=1024)
def _compiled(text: str):
    # Compiling is far slower than rendering; the same texts come back on every call.
    return _environment.from_string(text)


def render(text: str, values: Mapping[str, Any], *, what: str) -> str:
    """``text`` with its placeholders filled from ``values``; ``what`` names it in errors."""
    if "{" not in text:
        return text
    try:
        return _compiled(text).render(values)
    except UndefinedError as error:
        match = _UNDEFINED_NAME.search(str(error))
        name = match.group(1) if match else str(error)
        raise GatewayError(
            f"The placeholder '{name}' of {what} has no value: give it in the call's "
            "template values or the connection's template parameters.",
            code="missing_placeholder",
        ) from None
    except TemplateError as error:
        raise GatewayError(
            f"{what} is not a valid template: {error}", code="template_error"
        ) from None


def render_values(items: Mapping[str, Any], values: Mapping[str, Any], *, what: str) -> dict:
    """A copy of a parameters/headers object with placeholders in its text values filled."""
    return {
        key: render(value, values, what=f"{what} '{key}'") if isinstance(value, str) else value
        for key, value in items.items()
    }


def placeholders(*texts: str) -> list[str]:
    """The names the texts' placeholders use, sorted (to offer them in forms)."""
    names: set[str] = set()
    for text in texts:
        if text and "{" in text:
            try:
                names |= meta.find_undeclared_variables(_environment.parse(text))
            except TemplateError:
                continue
    return sorted(names)
