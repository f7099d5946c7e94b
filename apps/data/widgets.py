"""JSON in admin forms: an editor that formats and checks as you type, and a form
field whose syntax errors say where (line and column), not just "invalid"."""

from __future__ import annotations

import contextlib
import json

from django import forms

from . import jsonbounds


def _printable(text):
    """A refused lone surrogate shown as the escape it was typed as (else no page renders)."""
    if isinstance(text, str):
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


class JSONEditorWidget(forms.Textarea):
    template_name = "django/forms/widgets/textarea.html"

    class Media:
        css = {"all": ["ipaas/json-editor.css"]}
        js = ["ipaas/json-editor.js"]

    def __init__(self, attrs=None):
        defaults = {"class": "json-editor", "rows": 18, "cols": 100, "spellcheck": "false"}
        super().__init__({**defaults, **(attrs or {})})

    def format_value(self, value):
        # JSONField's form field gives a compact string; show it indented.
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.dumps(jsonbounds.loads(value), indent=2, ensure_ascii=False)
            return _printable(value)
        return super().format_value(value)


class JSONFormField(forms.JSONField):
    """forms.JSONField with the parser's own message: what is wrong, at which line and column."""

    widget = JSONEditorWidget

    def prepare_value(self, value):
        # Hidden "initial" copies too: a refused lone surrogate must not break the page.
        return _printable(super().prepare_value(value))

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not self.disabled:
            try:
                parsed = jsonbounds.loads(value)
            except json.JSONDecodeError as error:
                raise forms.ValidationError(
                    "Invalid JSON at line %(line)s, column %(column)s: %(reason)s.",
                    code="invalid",
                    params={"line": error.lineno, "column": error.colno, "reason": error.msg},
                ) from None
            except ValueError as error:  # too deep
                raise forms.ValidationError(str(error), code="invalid") from None
            if problem := jsonbounds.problem(parsed):
                raise forms.ValidationError(problem, code="invalid")
        return super().to_python(value)
