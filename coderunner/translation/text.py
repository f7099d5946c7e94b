"""``{{placeholders}}`` in webhook paths, parameters, headers and body templates.

Two ways to fill them, with the same result:

* :func:`fill_simple` — for text whose every placeholder is a plain name or
  dotted path (``Contacts/{{remote_id}}``, ``{{ page.size }}``): a string
  substitution, cheap enough for the platform process to do on every call.
  It answers None for anything else (filters, statements, a value that is not
  a string, number or boolean...), which then goes to a runner process;
* :func:`render_text` — Jinja2's sandbox with StrictUndefined, in the runner:
  a placeholder without a value is an error naming it, not an empty string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from .errors import TranslationError

_environment = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\}\}")
_JINJA_MARKS = ("{{", "{%", "{#", "}}", "%}", "#}")


def missing_placeholder(name: str, what: str) -> TranslationError:
    return TranslationError(
        f"The placeholder '{name}' of {what} has no value: give it in the call's "
        "template values or the connection's template parameters.",
        code="missing_placeholder",
    )


def needs_jinja(text: str) -> bool:
    """Does ``text`` hold more than plain placeholders (statements, filters, expressions)?"""
    return "{" in text and any(mark in _PLACEHOLDER.sub("", text) for mark in _JINJA_MARKS)


def fill_simple(text: str, values: Mapping[str, Any], *, what: str) -> str | None:
    """``text`` with plain placeholders filled, or None when it needs Jinja2 itself."""
    if "{" not in text:
        return text
    if needs_jinja(text):
        return None
    parts = []
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        parts.append(text[position : match.start()])
        value: Any = values
        for step, key in enumerate(match.group(1).split(".")):
            if not isinstance(value, Mapping) or key not in value:
                if step == 0 and key not in _environment.globals:
                    raise missing_placeholder(key, what)
                return None  # an attribute of something else: Jinja2 decides
            value = value[key]
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return None  # None, objects, lists: rendered as Jinja2 renders them
        parts.append(str(value))
        position = match.end()
    parts.append(text[position:])
    return "".join(parts)


@lru_cache(maxsize=1024)
def _compiled(text: str):
    return _environment.from_string(text)


def render_text(text: str, values: Mapping[str, Any], *, what: str) -> str:
    """``text`` rendered by Jinja2's sandbox (StrictUndefined); TranslationError naming
    ``what`` and the missing placeholder."""
    if "{" not in text:
        return text
    try:
        return _compiled(text).render(values)
    except UndefinedError as error:
        match = _UNDEFINED_NAME.search(str(error))
        raise missing_placeholder(match.group(1) if match else str(error), what) from None
    except TemplateError as error:
        raise TranslationError(
            f"{what} is not a valid template: {error}", code="template_error"
        ) from None


def check_text(text: str, *, what: str) -> None:
    """Compile ``text`` only: a TranslationError when it is not a valid template."""
    try:
        _compiled(text)
    except TemplateError as error:
        raise TranslationError(
            f"{what} is not a valid template: {error}", code="template_error"
        ) from None
