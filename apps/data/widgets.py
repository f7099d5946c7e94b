"""A JSON editor for the admin: a monospace textarea that formats and checks JSON as you type."""

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
