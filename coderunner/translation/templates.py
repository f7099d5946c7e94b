"""Templates: a Jinja2 body rendered from one record, or from a lot (bulk).

Templates run in the sandbox with StrictUndefined (a missing variable is an
error naming it; ``x | default(…)`` and ``record | dig("a.b")`` give fallbacks)
and autoescape for XML and HTML. Filters: ``tojson``, ``xml_escape``, ``csv``,
``csv_row``, ``dig``, ``date`` (and Jinja's own); global ``now()``. The output
of a JSON template must parse as JSON, that of an XML one must be well formed.
"""

from __future__ import annotations

import json
import traceback
from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SecurityError

from .environment import TranslationSandbox, make_environment
from .errors import TranslationError, excerpt
from .mime import media_type
from .parsing import parse_xml


@lru_cache(maxsize=2)
def _environment(autoescape: bool) -> TranslationSandbox:
    return make_environment(strict=True, autoescape=autoescape)


class Template:
    """A compiled template: ``render(record)``, or ``render_many(records)`` when bulk."""

    def __init__(self, source: str, *, mime_type: str = "application/json", bulk: bool = False):
        self.source = source
        self.mime_type = mime_type
        self.bulk = bulk
        self._media = media_type(mime_type)
        self.file_extension = self._media.file_extension
        try:
            self._template = _environment(self._media.autoescape).from_string(source)
        except TemplateSyntaxError as error:
            raise TranslationError(
                f"Template syntax error at line {error.lineno}: {error.message}",
                code="template_syntax", line=error.lineno,
            ) from None  # fmt: skip

    def __repr__(self) -> str:
        return f"<Template {self._media.essence}{' bulk' if self.bulk else ''}>"

    def render(self, record: dict) -> str:
        """The body for one record; its fields are variables, and ``record`` is all of it."""
        if self.bulk:
            raise TranslationError(
                "This template is bulk: render a lot with render_many(records).",
                code="render_error",
            )
        return self._render({**record, "record": record})

    def render_many(self, records: list[dict]) -> str:
        """The body for a lot of records (the variable ``records``), for a bulk template."""
        if not self.bulk:
            raise TranslationError(
                "This template renders one record: call render(record) for each.",
                code="render_error",
            )
        return self._render({"records": records})

    def _render(self, variables: dict[str, Any]) -> str:
        try:
            output = self._template.render(variables)
        except SecurityError as error:
            raise _render_error("broke a sandbox rule", error, "sandbox_violation") from None
        except UndefinedError as error:
            raise _render_error(
                "uses an undefined value", error, "undefined_variable",
                hint=" (give a fallback with `x | default(…)` or `record | dig(\"a.b\")`)",
            ) from None  # fmt: skip
        except MemoryError:
            raise  # the runner's memory limit: it answers so, and retires
        except Exception as error:  # whatever the template did, the caller gets one error type
            raise _render_error("failed", error, "render_error") from None
        self._check(output)
        return output

    def _check(self, output: str) -> None:
        kind = self._media.kind
        if kind == "json":
            try:
                json.loads(output)
            except json.JSONDecodeError as error:
                raise TranslationError(
                    f"The template rendered invalid JSON: {error.msg} at line {error.lineno}, "
                    f"column {error.colno}:\n{excerpt(output, error.lineno, error.colno)}",
                    code="invalid_output", line=error.lineno, column=error.colno,
                ) from None  # fmt: skip
        elif kind == "xml":
            try:
                parse_xml(output)
            except TranslationError as error:
                raise TranslationError(
                    f"The template rendered {error.message[0].lower()}{error.message[1:]}",
                    code="invalid_output", line=error.line, column=error.column,
                ) from None  # fmt: skip


def compile_template(
    source: str, *, mime_type: str = "application/json", bulk: bool = False
) -> Template:
    """Compile a template once; raises TranslationError with the line of a syntax error."""
    return Template(source, mime_type=mime_type, bulk=bulk)


def _render_error(what: str, error: Exception, code: str, hint: str = "") -> TranslationError:
    line = _template_line(error)
    where = f" at line {line}" if line else ""
    message = getattr(error, "message", None) or str(error)
    return TranslationError(f"The template {what}{where}: {message}{hint}", code=code, line=line)


def _template_line(error: Exception) -> int | None:
    # Jinja rewrites tracebacks so that template frames carry the template's own lines.
    lines = [
        frame.lineno
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename == "<template>"
    ]
    return lines[-1] if lines else None
