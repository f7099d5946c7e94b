"""Form fields of the gateway's elements, for the admin and the connector wizard.

:class:`PaginationField` edits a webhook's ``pagination`` (DESIGN §7) as a
type select that shows only the chosen type's options, each with its own
input, instead of raw JSON. The options come from :mod:`.pagination`, so the
form, the API and the client agree on them; the wizard reuses the field.
"""

from __future__ import annotations

from typing import Any

from django import forms

from .pagination import COMMON_OPTIONS, NATURAL, OPTIONS, POSITIVE, pagination_check

HELP = {
    "page_param": "query parameter of the page number (default: page)",
    "start_page": "number of the first page (default: 1)",
    "size_param": "query parameter of the page size",
    "size": "records per page to ask for",
    "has_more_path": "JMESPath to a true/false 'more pages' flag in the body",
    "total_pages_path": "JMESPath to the number of pages in the body",
    "offset_param": "query parameter of the offset (default: offset)",
    "limit_param": "query parameter of the limit (default: limit)",
    "limit": "records per page to ask for (default: 100)",
    "total_path": "JMESPath to the total number of records in the body",
    "cursor_param": "query parameter of the cursor (default: cursor)",
    "next_cursor_path": "JMESPath to the next cursor in the body",
    "cursor_field": "or: the field of the last record that is the next cursor",
    "next_url_path": "JMESPath to the next page's URL in the body",
    "max_pages": "stop quietly after this many pages",
}


class PaginationWidget(forms.Widget):
    """A type select, and per type a group of inputs; a script shows the chosen group."""

    template_name = "gateway/widgets/pagination.html"

    class Media:
        js = ["ipaas/pagination.js"]
        css = {"all": ["ipaas/pagination.css"]}

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        spec = value if isinstance(value, dict) else {}
        kind = spec.get("type") or "none"
        context["widget"]["kinds"] = [
            {
                "name": type_name,
                "selected": type_name == kind,
                "options": [
                    {
                        "name": option,
                        "input": f"{name}__{type_name}__{option}",
                        "id": f"{attrs.get('id') or name}__{type_name}__{option}",
                        "number": option_kind in (POSITIVE, NATURAL),
                        "value": spec.get(option, "") if type_name == kind else "",
                        "help": HELP.get(option, ""),
                    }
                    for option, option_kind in {**options, **COMMON_OPTIONS}.items()
                ],
            }
            for type_name, options in OPTIONS.items()
        ]
        return context

    def value_from_datadict(self, data, files, name) -> dict[str, Any] | None:
        kind = data.get(f"{name}__type")
        if kind is None:
            return None
        spec: dict[str, Any] = {"type": kind}
        options = {**OPTIONS.get(kind, {}), **COMMON_OPTIONS}
        for option, option_kind in options.items():
            raw = (data.get(f"{name}__{kind}__{option}") or "").strip()
            if not raw:
                continue
            if option_kind in (POSITIVE, NATURAL):
                spec[option] = int(raw) if raw.lstrip("-").isdigit() else raw
            else:
                spec[option] = raw
        return spec

    def value_omitted_from_data(self, data, files, name) -> bool:
        return f"{name}__type" not in data


class PaginationField(forms.Field):
    """A pagination spec: {} for none, else {"type": …, options…}, checked on clean."""

    widget = PaginationWidget

    def to_python(self, value):
        if not value or value.get("type") in (None, "", "none"):
            return {}
        return value

    def validate(self, value):
        super().validate(value)
        problems = pagination_check(value)
        if problems:
            raise forms.ValidationError(problems)

    def has_changed(self, initial, data):
        return (initial or {}) != (self.to_python(data) or {})
