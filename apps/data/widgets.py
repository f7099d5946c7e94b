"""JSON in admin forms: an editor that formats and checks as you type, and a form
field whose syntax errors say where (line and column), not just "invalid"."""

from __future__ import annotations

import json

from django import forms


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
            try:
                return json.dumps(json.loads(value), indent=2, ensure_ascii=False)
            except ValueError:
                return value
        return super().format_value(value)


class JSONFormField(forms.JSONField):
    """forms.JSONField with the parser's own message: what is wrong, at which line and column."""

    widget = JSONEditorWidget

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not self.disabled:
            try:
                json.loads(value)
            except json.JSONDecodeError as error:
                raise forms.ValidationError(
                    "Invalid JSON at line %(line)s, column %(column)s: %(reason)s.",
                    code="invalid",
                    params={"line": error.lineno, "column": error.colno, "reason": error.msg},
                ) from None
        return super().to_python(value)
