"""The forms of the Connector Factory wizard, one per step (see wizard.py).

Every form works without JavaScript: choices that change which fields apply
(the authorization type, the pagination type, the export body shape) are
settled by a submit, and the next rendering shows only the fields of the
choice. static/connector_factory/wizard.js only makes that immediate.

Secret fields are password inputs that never render their value; a secret
already known (entered earlier in this wizard, or stored with the connector
being edited) is kept when the field is left empty.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from apps.data import permissions
from apps.data.models import Namespace

from .models import Connector
from .spec import AUTH_TYPES, BODY_SHAPES, PAGINATION_TYPES, SECRET_FIELDS

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
METHODS = [(m, m) for m in ("GET", "POST", "PUT", "PATCH", "DELETE")]
KEEP_SECRET_HELP = "Leave empty to keep the stored secret."

AUTH_LABELS = {
    "none": "None (a public API)",
    "basic": "Basic (username and password)",
    "bearer": "Bearer token",
    "api_key": "API key (in a header or the query)",
    "oauth2": "OAuth 2.0",
}
AUTH_FIELD_HELP = {
    "key_name": "The header or query parameter that carries the key, e.g. X-Api-Key.",
    "key_in": "Where the key goes.",
    "grant_type": "client_credentials: the platform asks for a token itself; "
    "authorization_code: a user authorizes once in the admin.",
    "authorization_endpoint": "Only for authorization_code.",
    "token_endpoint": "Where tokens are asked for.",
    "scopes": "Comma-separated, e.g. a,b.",
    "header_prefix": "The word before the token in the Authorization header (default Bearer).",
}
AUTH_FIELD_CHOICES = {
    "key_in": [("header", "header"), ("query", "query")],
    "grant_type": [
        ("client_credentials", "client_credentials"),
        ("authorization_code", "authorization_code"),
    ],
}
OPTIONAL_AUTH_FIELDS = {"authorization_endpoint", "scopes", "header_prefix"}


def _identifier(value: str) -> None:
    if not IDENTIFIER.match(value or ""):
        raise ValidationError(
            "Use lower-case letters, digits and _ , starting with a letter (e.g. zoho_crm)."
        )


class NameForm(forms.Form):
    name = forms.CharField(
        max_length=60,
        validators=[_identifier],
        help_text="The connector's namespace, e.g. zoho_crm: every element is created in it.",
    )
    title = forms.CharField(max_length=200, required=False, help_text="A readable title.")

    def __init__(self, *args, user=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.editing = user, editing
        if editing:  # the namespace is the connector: renaming would be another connector
            self.fields["name"].disabled = True
            self.fields["name"].help_text = "The connector's namespace (cannot change)."

    def clean_name(self):
        name = self.cleaned_data["name"]
        problem = None if self.editing or self.user is None else namespace_problem(self.user, name)
        if problem:
            raise ValidationError(problem)
        return name


def namespace_problem(user, name: str) -> str | None:
    """Why ``user`` may not create a connector named ``name`` (None: they may)."""
    namespace = Namespace.objects.filter(name=name).first()
    if namespace is None:
        if user.has_perm("data.add_namespace"):
            return None
        return "You may not create namespaces: choose a namespace you may change."
    if not permissions.can_change(user, namespace):
        return f"You may not change the namespace {name}."
    if Connector.objects.filter(namespace=namespace).exists():
        return f"A connector named {name} exists already: edit it instead."
    return None


class AuthTypeForm(forms.Form):
    type = forms.ChoiceField(
        label="Authorization type",
        choices=[(kind, AUTH_LABELS.get(kind, kind)) for kind in AUTH_TYPES],
        widget=forms.RadioSelect,
        initial="none",
    )


class AuthFieldsForm(forms.Form):
    """The fields of one authorization type; built by :func:`auth_form_class`."""

    auth_type = ""
    secret_fields: list[str] = []

    def __init__(self, *args, kept_secrets: frozenset[str] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kept_secrets = kept_secrets
        for name in self.secret_fields:
            if name in kept_secrets:
                self.fields[name].required = False
                self.fields[name].help_text = KEEP_SECRET_HELP


def auth_form_class(auth_type: str) -> type[AuthFieldsForm]:
    """A form with exactly the fields of ``auth_type`` (secrets as password inputs)."""
    secrets = SECRET_FIELDS.get(auth_type, [])
    fields: dict[str, Any] = {}
    for name in AUTH_TYPES.get(auth_type, []):
        label = name.replace("_", " ").capitalize()
        help_text = AUTH_FIELD_HELP.get(name, "")
        required = name not in OPTIONAL_AUTH_FIELDS
        if name in secrets:
            fields[name] = forms.CharField(
                label=label,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                help_text=help_text,
                strip=False,
            )
        elif name in AUTH_FIELD_CHOICES:
            fields[name] = forms.ChoiceField(
                label=label, choices=AUTH_FIELD_CHOICES[name], help_text=help_text
            )
        else:
            fields[name] = forms.CharField(
                label=label, required=required, help_text=help_text, max_length=2000
            )
    attrs = {**fields, "auth_type": auth_type, "secret_fields": secrets}
    return type(f"{auth_type.title()}AuthForm", (AuthFieldsForm,), attrs)


# --- connection ------------------------------------------------------------------------


class PairForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    value = forms.CharField(max_length=2000, required=False)

    def clean(self):
        data = super().clean()
        if data.get("value") and not data.get("name"):
            self.add_error("name", "A value needs a name.")
        return data


PairFormSet = forms.formset_factory(PairForm, extra=2, can_delete=True)


class ConnectionMainForm(forms.Form):
    base_url = forms.CharField(
        label="Base URL",
        max_length=2000,
        help_text="Every path of the resources is relative to it, e.g. https://api.example.com/v2",
    )


class ConnectionForm:
    """The base URL and two formsets of name/value pairs (parameters, headers), as one step.

    It looks like a form to the wizard: ``is_valid``, ``cleaned_data``, ``data``.
    """

    base_fields: dict[str, forms.Field] = {}  # the wizard looks for file fields here

    def __init__(self, data=None, files=None, prefix="connection", initial=None, **kwargs):
        initial = initial or {}
        self.prefix, self.data, self.files = prefix, data, files
        self.is_bound = data is not None
        self.main = ConnectionMainForm(data, prefix=prefix, initial=initial)
        self.parameters = PairFormSet(
            data, prefix=f"{prefix}-parameters", initial=_pairs(initial.get("parameters"))
        )
        self.headers = PairFormSet(
            data, prefix=f"{prefix}-headers", initial=_pairs(initial.get("headers"))
        )
        self.formsets = {"parameters": self.parameters, "headers": self.headers}

    def is_valid(self) -> bool:
        results = [self.main.is_valid()] + [f.is_valid() for f in self.formsets.values()]
        return all(results)

    @property
    def errors(self):
        return self.main.errors

    @property
    def media(self):
        return self.main.media

    @property
    def cleaned_data(self) -> dict[str, Any]:
        data = dict(self.main.cleaned_data)
        for key, formset in self.formsets.items():
            data[key] = {
                row["name"]: row.get("value", "")
                for row in formset.cleaned_data
                if row and row.get("name") and not row.get("DELETE")
            }
        return data

    def add_error(self, field: str | None, message: str) -> None:
        self.main.add_error(field if field == "base_url" else None, message)


def _pairs(mapping) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in (mapping or {}).items()]


# --- resources -------------------------------------------------------------------------


def pagination_field(kind: str, option: str) -> str:
    return f"{kind}__{option}"


PAGINATION_HELP = {
    "page_param": "The query parameter of the page number (default page).",
    "start_page": "The first page's number (default 1).",
    "size_param": "The query parameter of the page size.",
    "size": "The page size to ask for.",
    "has_more_path": "JMESPath to a boolean in the body: more pages?",
    "total_pages_path": "JMESPath to the number of pages in the body.",
    "offset_param": "The query parameter of the offset (default offset).",
    "limit_param": "The query parameter of the page size (default limit).",
    "limit": "Records per page (default 100).",
    "total_path": "JMESPath to the total number of records.",
    "cursor_param": "The query parameter of the cursor (default cursor).",
    "next_cursor_path": "JMESPath to the next cursor in the body.",
    "cursor_field": "Or: the field of the last record that is the next cursor.",
    "next_url_path": "JMESPath to the next page's URL in the body.",
    "max_pages": "Stop after this many pages.",
}
NUMBER_OPTIONS = {"start_page", "size", "limit", "max_pages"}


class ResourceForm(forms.Form):
    """One resource: its name, processes, import calls (with pagination) and export calls."""

    name = forms.CharField(
        max_length=60, validators=[_identifier], help_text="Singular, e.g. contact."
    )
    plural = forms.CharField(max_length=60, required=False, help_text="Default: name + s.")
    primary_key = forms.CharField(
        max_length=200, initial="id", help_text="The field of a remote record that is its id."
    )
    processes = forms.MultipleChoiceField(
        choices=[("import", "import"), ("export", "export")],
        widget=forms.CheckboxSelectMultiple,
        initial=["import"],
    )
    get_one_method = forms.ChoiceField(label="Get one: method", choices=METHODS, initial="GET")
    get_one_path = forms.CharField(
        label="Get one: path",
        max_length=2000,
        required=False,
        help_text="e.g. Contacts/{{remote_id}}",
    )
    get_many_method = forms.ChoiceField(label="Get many: method", choices=METHODS, initial="GET")
    get_many_path = forms.CharField(
        label="Get many: path", max_length=2000, required=False, help_text="e.g. Contacts"
    )
    records_path = forms.CharField(
        max_length=500,
        required=False,
        help_text="JMESPath to the records in an answer. Empty: the body if it is a list, "
        "else its first list.",
    )
    pagination_type = forms.ChoiceField(
        choices=[(kind, kind) for kind in PAGINATION_TYPES], initial="none"
    )
    # The pagination type whose options the page showed (wizard.js keeps it in step).
    pagination_shown = forms.CharField(required=False, widget=forms.HiddenInput)
    schedule = forms.CharField(
        max_length=100,
        required=False,
        help_text='Import on a schedule: "every 15m", "every 2h" or a cron line. Empty: on demand.',
    )
    incremental_param = forms.CharField(
        label="Incremental: parameter",
        max_length=200,
        required=False,
        help_text="Ask only for changes: the query parameter that takes the last value seen.",
    )
    incremental_cursor_field = forms.CharField(
        label="Incremental: cursor field",
        max_length=200,
        required=False,
        help_text="The record field whose greatest value is remembered, e.g. modified_at.",
    )
    create_method = forms.ChoiceField(label="Create: method", choices=METHODS, initial="POST")
    create_path = forms.CharField(
        label="Create: path", max_length=2000, required=False, help_text="e.g. Contacts"
    )
    update_method = forms.ChoiceField(label="Update: method", choices=METHODS, initial="PUT")
    update_path = forms.CharField(
        label="Update: path",
        max_length=2000,
        required=False,
        help_text="e.g. Contacts/{{remote_id}}",
    )
    body_shape = forms.ChoiceField(
        label="Request body",
        choices=[(shape, shape) for shape in BODY_SHAPES],
        initial=BODY_SHAPES[0],
        help_text="raw: the record's raw_data as JSON; wrapped: {key: [raw_data]}; "
        "template: a Jinja template.",
    )
    wrap_key = forms.CharField(
        max_length=200, required=False, help_text='For wrapped, e.g. data gives {"data": [record]}.'
    )
    body_template = forms.CharField(
        label="Body template",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="For template: Jinja with the record as raw_data, e.g. {{ raw_data | tojson }}.",
    )
    id_path = forms.CharField(
        max_length=500,
        required=False,
        help_text="JMESPath to the new id in the create answer. Empty: id, data[0].id "
        "or data[0].details.id.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, options in PAGINATION_TYPES.items():
            for option in options:
                field_class = forms.IntegerField if option in NUMBER_OPTIONS else forms.CharField
                self.fields[pagination_field(kind, option)] = field_class(
                    label=option.replace("_", " ").capitalize(),  # "Has more path"
                    required=False,
                    help_text=PAGINATION_HELP.get(option, ""),
                )

    @property
    def changed_data(self) -> list[str]:
        # Which options the page showed is bookkeeping: an untouched extra form is still empty.
        return [name for name in super().changed_data if name != "pagination_shown"]

    # What the page shows: the options of one pagination type, the fields of one body shape.
    @property
    def shown_pagination(self) -> str:
        value = self["pagination_type"].value()
        return value if value in PAGINATION_TYPES else "none"

    @property
    def shown_shape(self) -> str:
        value = self["body_shape"].value()
        return value if value in BODY_SHAPES else BODY_SHAPES[0]

    def pagination_groups(self):
        """(type, bound fields of its options, shown?) for every pagination type."""
        return [
            (
                kind,
                [self[pagination_field(kind, o)] for o in options],
                kind == self.shown_pagination,
            )
            for kind, options in PAGINATION_TYPES.items()
        ]

    def clean(self):
        data = super().clean()
        kind = data.get("pagination_type")
        # Without JavaScript a new type's options were not on the page yet: show them first.
        if kind and PAGINATION_TYPES.get(kind) and data.get("pagination_shown") != kind:
            self.add_error(
                "pagination_type",
                f"Set the options of {kind} below (empty ones take their defaults), then go on.",
            )
        return data


class BaseResourceFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        names = []
        for form in self.live_forms():
            name = form.cleaned_data.get("name")
            if name in names:
                form.add_error("name", f"Another resource is already named {name}.")
            names.append(name)
        if not names:
            raise ValidationError("Add at least one resource.")

    def live_forms(self) -> list[ResourceForm]:
        """The forms that are resources: the initial ones and the extra ones filled in."""
        return [
            form
            for i, form in enumerate(self.forms)
            if (i < self.initial_form_count() or form.has_changed())
            and not self._should_delete_form(form)  # type: ignore[attr-defined]
        ]

    def add_error(self, index: int | None, field: str | None, message: str) -> None:
        """An error from the spec check on resource ``index`` (None: the whole step)."""
        live = self.live_forms()
        if index is None or index >= len(live):
            self._non_form_errors = self.error_class([*self.non_form_errors(), message])
        else:
            live[index].add_error(field if field in live[index].fields else None, message)

    @property
    def resources(self) -> list[dict[str, Any]]:
        return [form.cleaned_data for form in self.live_forms()]


ResourceFormSet = forms.formset_factory(
    ResourceForm, formset=BaseResourceFormSet, extra=1, can_delete=True
)


class ReviewForm(forms.Form):
    drop_records = forms.BooleanField(
        required=False,
        label="Also delete the records of resources removed from the connector",
        help_text="Left unchecked, a removed resource's records stay.",
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not editing:
            del self.fields["drop_records"]


class DeleteForm(forms.Form):
    drop_records = forms.BooleanField(
        required=False,
        label="Also delete the imported records",
        help_text="Left unchecked, the records stay in the namespace.",
    )
