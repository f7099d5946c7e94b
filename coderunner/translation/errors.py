"""The translation library's one error type, and the excerpt shown with it."""

from __future__ import annotations


class TranslationError(Exception):
    """A mapping, template or body could not be compiled, evaluated, rendered or parsed.

    The message says what failed and where: the target field and its
    expression (mappings), the template line (templates), the line and column
    with an excerpt (rendered output and parsed bodies). ``code`` is stable,
    for programs: ``invalid_mapping``, ``invalid_target``, ``invalid_expression``,
    ``invalid_constant``, ``evaluation_error``, ``template_syntax``,
    ``undefined_variable``, ``sandbox_violation``, ``render_error``,
    ``invalid_output``, ``parse_error``, ``unsupported_mime_type``.
    """

    default_code = "translation_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        expression: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.expression = expression
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return self.message


def excerpt(text: str, line: int, column: int, *, width: int = 60) -> str:
    """The ``line`` (1-based) of ``text`` around ``column`` (1-based), with a caret under it."""
    lines = text.splitlines() or [""]
    source = lines[min(max(line, 1), len(lines)) - 1]
    start = max(column - 1 - width // 2, 0)
    shown = source[start : start + width]
    prefix = "…" if start else ""
    suffix = "…" if start + width < len(source) else ""
    caret = " " * (len(prefix) + max(column - 1 - start, 0)) + "^"
    return f"{prefix}{shown}{suffix}\n{caret}"
