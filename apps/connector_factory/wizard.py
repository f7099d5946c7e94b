"""The Connector Factory wizard: the spec of DESIGN §7 built page by page.

Steps: name → authorization type → its fields (skipped for "none") →
connection → resources → review. Each step's data is kept in the session
(secret fields encrypted), the spec is assembled from the steps by
:func:`spec_from_steps`, and on every submit the spec is checked with
``spec_problems``: a problem whose path belongs to the step being submitted is
shown next to its field there; one that belongs to no step shows at the top of
the review page. Save calls ``connector_generate``; nothing here writes.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from formtools.wizard.views import SessionWizardView

from apps.data import permissions
from apps.security import crypto
from apps.security.redaction import REDACTED, is_secret_name

from . import forms as wizard_forms
from .generator import connector_generate, connector_plan
from .models import Connector
from .services import connector_spec_for_edit
from .spec import PAGINATION_TYPES, SECRET_FIELDS, SpecError, spec_normalize, spec_problems

STEPS = [
    ("name", wizard_forms.NameForm),
    ("auth_type", wizard_forms.AuthTypeForm),
    ("auth", wizard_forms.AuthFieldsForm),
    ("connection", wizard_forms.ConnectionForm),
    ("resources", wizard_forms.ResourceFormSet),
    ("review", wizard_forms.ReviewForm),
]
STEP_TITLES = {
    "name": "Name",
    "auth_type": "Authorization type",
    "auth": "Authorization",
    "connection": "Connection",
    "resources": "Resources",
    "review": "Review",
}
ENCRYPTED_MARK = "__encrypted"
# Stand-ins for steps not filled in yet, so that a step's own problems can be checked.
PLACEHOLDER_SPEC: dict[str, Any] = {
    "name": "connector",
    "authorization": {"type": "none"},
    "connection": {"base_url": "https://api.example.com"},
    "resources": [],
}


# --- the spec from the steps and back -------------------------------------------------


def resource_spec(data: dict[str, Any]) -> dict[str, Any]:
    """A resource of the spec from the cleaned data of a ResourceForm."""
    processes = [p for p in ("import", "export") if p in (data.get("processes") or [])]
    resource: dict[str, Any] = {
        "name": data["name"],
        "primary_key": data.get("primary_key") or "id",
        "processes": processes,
    }
    if data.get("plural"):
        resource["plural"] = data["plural"]
    if "import" in processes:
        imported: dict[str, Any] = {}
        for call in ("get_one", "get_many"):
            if data.get(f"{call}_path"):
                imported[call] = {"method": data[f"{call}_method"], "path": data[f"{call}_path"]}
        if data.get("records_path"):
            imported["records_path"] = data["records_path"]
        kind = data.get("pagination_type") or "none"
        pagination: dict[str, Any] = {"type": kind}
        for option in PAGINATION_TYPES.get(kind, []):
            value = data.get(wizard_forms.pagination_field(kind, option))
            if value not in (None, ""):
                pagination[option] = value
        imported["pagination"] = pagination
        if data.get("schedule"):
            imported["schedule"] = data["schedule"]
        if data.get("incremental_param") or data.get("incremental_cursor_field"):
            imported["incremental"] = {
                "param": data.get("incremental_param", ""),
                "cursor_field": data.get("incremental_cursor_field", ""),
            }
        resource["import"] = imported
    if "export" in processes:
        exported: dict[str, Any] = {}
        for call in ("create", "update"):
            if data.get(f"{call}_path"):
                exported[call] = {"method": data[f"{call}_method"], "path": data[f"{call}_path"]}
        shape = data.get("body_shape") or "raw"
        exported["body_shape"] = shape
        if shape == "wrapped":
            exported["wrap_key"] = data.get("wrap_key", "")
        if shape == "template":
            exported["body_template"] = data.get("body_template", "")
        if data.get("id_path"):
            exported["id_path"] = data["id_path"]
        resource["export"] = exported
    return resource


def resource_initial(resource: dict[str, Any]) -> dict[str, Any]:
    """The initial data of a ResourceForm from a resource of the spec (inverse of the above)."""
    imported, exported = resource.get("import") or {}, resource.get("export") or {}
    pagination = imported.get("pagination") or {"type": "none"}
    initial: dict[str, Any] = {
        "name": resource.get("name", ""),
        "plural": resource.get("plural", ""),
        "primary_key": resource.get("primary_key", "id"),
        "processes": resource.get("processes", []),
        "records_path": imported.get("records_path", ""),
        "pagination_type": pagination.get("type", "none"),
        "pagination_shown": pagination.get("type", "none"),
        "schedule": imported.get("schedule", ""),
        "incremental_param": (imported.get("incremental") or {}).get("param", ""),
        "incremental_cursor_field": (imported.get("incremental") or {}).get("cursor_field", ""),
        "body_shape": exported.get("body_shape", "raw"),
        "wrap_key": exported.get("wrap_key", ""),
        "body_template": exported.get("body_template", ""),
        "id_path": exported.get("id_path", ""),
    }
    calls = [("get_one", imported), ("get_many", imported), ("create", exported)]
    for call, section in [*calls, ("update", exported)]:
        if section.get(call):
            initial[f"{call}_method"] = section[call].get("method")
            initial[f"{call}_path"] = section[call].get("path", "")
    kind = pagination.get("type", "none")
    for option in PAGINATION_TYPES.get(kind, []):
        if option in pagination:
            initial[wizard_forms.pagination_field(kind, option)] = pagination[option]
    return initial


def initial_from_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The initial data of every step from a stored spec (editing a connector)."""
    authorization = dict(spec.get("authorization") or {"type": "none"})
    auth_type = authorization.pop("type", "none")
    for secret in SECRET_FIELDS.get(auth_type, []):
        authorization.pop(secret, None)  # never rendered
    connection = spec.get("connection") or {}
    return {
        "name": {"name": spec.get("name", ""), "title": spec.get("title", "")},
        "auth_type": {"type": auth_type},
        "auth": authorization,
        "connection": {
            "base_url": connection.get("base_url", ""),
            "parameters": connection.get("parameters") or {},
            "headers": connection.get("headers") or {},
        },
        "resources": [resource_initial(r) for r in spec.get("resources") or []],
    }


def masked(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as the review page shows it: no secret value."""
    shown = json.loads(json.dumps(spec))
    authorization = shown.get("authorization") or {}
    for name in SECRET_FIELDS.get(authorization.get("type", ""), []):
        if name in authorization:
            authorization[name] = REDACTED if authorization[name] else "(kept)"
    for key in ("parameters", "headers"):
        pairs = (shown.get("connection") or {}).get(key) or {}
        for name in pairs:
            if is_secret_name(name) and pairs[name]:
                pairs[name] = REDACTED
    return shown


# --- spec problems back to their step and field ------------------------------------------

_PROBLEM = re.compile(r"^(?P<path>[A-Za-z_][\w]*(?:\[\d+\]|\.[A-Za-z_]\w*)*):?\s+(?P<text>.+)$")
_RESOURCE = re.compile(r"^resources\[(?P<index>\d+)\](?:\.(?P<rest>.+))?$")
RESOURCE_FIELDS = {
    "name": "name",
    "plural": "plural",
    "primary_key": "primary_key",
    "processes": "processes",
    "import.get_one.method": "get_one_method",
    "import.get_one": "get_one_path",
    "import.get_many.method": "get_many_method",
    "import.get_many": "get_many_path",
    "import.records_path": "records_path",
    "import.pagination.type": "pagination_type",
    "import.pagination": "pagination_type",
    "import.schedule": "schedule",
    "import.incremental.cursor_field": "incremental_cursor_field",
    "import.incremental": "incremental_param",
    "import": "get_many_path",
    "export.create.method": "create_method",
    "export.create": "create_path",
    "export.update.method": "update_method",
    "export.update": "update_path",
    "export.wrap_key": "wrap_key",
    "export.body_template": "body_template",
    "export.body_shape": "body_shape",
    "export.id_path": "id_path",
    "export": "create_path",
}


def problem_place(problem: str, pagination_types: list[str] | None = None):
    """(step, resource index or None, field or None) of a spec problem; None: the review."""
    match = _PROBLEM.match(problem)
    if not match:
        return None
    path = match["path"]
    head = path.split(".")[0].split("[")[0]
    if head in ("name", "title"):
        return ("name", None, head)
    if path == "authorization.type":
        return ("auth_type", None, "type")
    if head == "authorization":
        field = path.split(".", 1)[1] if "." in path else None
        return ("auth", None, field)
    if head == "connection":
        field = path.split(".")[1] if "." in path else None
        return ("connection", None, "base_url" if field == "base_url" else None)
    if head == "resources":
        resource = _RESOURCE.match(path)
        if not resource:
            return ("resources", None, None)
        index, rest = int(resource["index"]), resource["rest"] or ""
        if rest.startswith("import.pagination.") and rest.count(".") == 2:
            option = rest.rsplit(".", 1)[1]
            kinds = pagination_types or []
            if option != "type" and index < len(kinds):
                return ("resources", index, wizard_forms.pagination_field(kinds[index], option))
        for prefix, field in RESOURCE_FIELDS.items():
            if rest == prefix or rest.startswith(prefix + ".") or rest.startswith(prefix + "["):
                return ("resources", index, field)
        return ("resources", index, None)
    return None


# --- the view ----------------------------------------------------------------------------


def _auth_chosen(wizard: ConnectorWizard) -> bool:
    return wizard.auth_type() != "none"


class ConnectorWizard(SessionWizardView):
    form_list = STEPS
    condition_dict = {"auth": _auth_chosen}
    template_name = "connector_factory/wizard.html"
    connector: Connector | None = None

    # -- setup
    def dispatch(self, request, *args, name: str | None = None, **kwargs):
        if name is not None:
            self.connector = (
                Connector.objects.select_related("namespace").filter(namespace__name=name).first()
            )
            if self.connector is None or not permissions.can_view(
                request.user, self.connector.namespace
            ):
                raise Http404("No such connector.")
            if not permissions.can_change(request.user, self.connector.namespace):
                raise PermissionDenied("You may not change this connector.")
            self.initial_dict = initial_from_spec(connector_spec_for_edit(self.connector))
        return super().dispatch(request, *args, **kwargs)

    def get_prefix(self, request, *args, **kwargs):
        # An edit and an add in two tabs keep apart.
        suffix = self.connector.namespace.name if self.connector else "new"
        return f"connector_wizard_{suffix}"

    def auth_type(self) -> str:
        if self.steps.current == "auth_type" and self.request.method == "POST":
            posted = self.request.POST.get("auth_type-type")
            if posted:
                return posted
        data = self.storage.get_step_data("auth_type")
        if data:
            return data.get("auth_type-type", "none")
        return self.initial_dict.get("auth_type", {}).get("type", "none")

    def kept_secrets(self) -> frozenset[str]:
        """Secret fields that have a value already: empty in a submit means keep it."""
        auth_type = self.auth_type()
        kept = set()
        stored = self.storage.get_step_data("auth") or {}
        if stored.get(f"auth-{ENCRYPTED_MARK}") == auth_type:
            kept |= {
                name for name in SECRET_FIELDS.get(auth_type, []) if stored.get(f"auth-{name}")
            }
        existing = (self.connector.spec.get("authorization") or {}) if self.connector else {}
        if existing.get("type") == auth_type:
            kept |= set(SECRET_FIELDS.get(auth_type, []))
        return frozenset(kept)

    # -- forms
    def get_form_kwargs(self, step=None):
        if step == "name":
            return {"editing": self.connector is not None, "user": self.request.user}
        if step == "review":
            return {"editing": self.connector is not None}
        if step == "auth":
            return {"kept_secrets": self.kept_secrets()}
        return {}

    def get_form(self, step=None, data=None, files=None):
        step = step or self.steps.current
        if step == "auth":
            if data is not None and data.get(f"auth-{ENCRYPTED_MARK}"):
                data = self._decrypted(data)
            form_class = wizard_forms.auth_form_class(self.auth_type())
            form: Any = form_class(
                data=data, prefix="auth", initial=self.get_form_initial(step),
                **self.get_form_kwargs(step),
            )  # fmt: skip
        else:
            form = super().get_form(step, data, files)
        if data is not None:
            self._check_spec_on_validation(step, form)
        return form

    def get_form_initial(self, step):
        initial = super().get_form_initial(step)
        if (
            step == "auth"
            and self.initial_dict.get("auth_type", {}).get("type") != self.auth_type()
        ):
            return {}
        return initial

    def _with_kept_secrets(self, values: dict[str, Any]) -> dict[str, Any]:
        """A submitted auth form's values, secrets left empty taken from this wizard's store."""
        stored = self.storage.get_step_data("auth") or {}
        if stored.get(f"auth-{ENCRYPTED_MARK}") != self.auth_type():
            return values
        values = dict(values)
        for name in SECRET_FIELDS.get(self.auth_type(), []):
            if not values.get(name) and stored.get(f"auth-{name}"):
                values[name] = crypto.decrypt(stored[f"auth-{name}"])
        return values

    def _decrypted(self, data):
        data = data.copy()
        for name in SECRET_FIELDS.get(self.auth_type(), []):
            if data.get(f"auth-{name}"):
                data[f"auth-{name}"] = crypto.decrypt(data[f"auth-{name}"])
        return data

    def process_step(self, form):
        data = super().process_step(form).copy()
        if self.steps.current == "auth":  # secrets rest encrypted in the session
            stored = self.storage.get_step_data("auth") or {}
            auth_type = self.auth_type()
            same_type = stored.get(f"auth-{ENCRYPTED_MARK}") == auth_type
            for name in SECRET_FIELDS.get(auth_type, []):
                key = f"auth-{name}"
                if data.get(key):
                    data[key] = crypto.encrypt(data[key])
                elif same_type and stored.get(key):
                    data[key] = stored[key]
            data[f"auth-{ENCRYPTED_MARK}"] = auth_type
        return data

    def post(self, *args, **kwargs):
        # "Add a row" / "Add a resource" without JavaScript: the same step, one more form.
        adding = self.request.POST.get("formset_add")
        if adding in ("resources", "connection-parameters", "connection-headers"):
            data = self.request.POST.copy()
            total = f"{adding}-TOTAL_FORMS"
            data[total] = str(int(data.get(total) or 0) + 1)
            self._adding_row = True
            return self.render(self.get_form(data=data))
        return super().post(*args, **kwargs)

    # -- the spec
    def step_values(self, step: str, current=None) -> Any:
        """The cleaned data of ``step``: of ``current`` if it is that step's form."""
        if current is not None:
            if step == "auth":
                return self._with_kept_secrets(current.cleaned_data)
            return current.cleaned_data if step != "resources" else current.resources
        if step == "auth" and not _auth_chosen(self):
            return {}
        if step not in self.get_form_list():
            return None
        form = self.get_form(step, self.storage.get_step_data(step), None)
        if not form.is_valid():
            return None
        return form.cleaned_data if step != "resources" else form.resources

    def build_spec(self, *, current_step: str | None = None, current=None) -> dict[str, Any]:
        """The spec from the steps' data; steps without valid data yet take placeholders."""
        self._checking = True
        try:
            values = {
                step: self.step_values(step, current if step == current_step else None)
                for step in ("name", "auth_type", "auth", "connection", "resources")
            }
        finally:
            self._checking = False
        spec = json.loads(json.dumps(PLACEHOLDER_SPEC))
        if self.connector is not None:
            spec["name"] = self.connector.namespace.name
        if values["name"]:
            spec["name"] = (
                self.connector.namespace.name if self.connector else values["name"]["name"]
            )
            if values["name"].get("title"):
                spec["title"] = values["name"]["title"]
        if values["auth_type"]:
            auth_type = values["auth_type"]["type"]
            spec["authorization"] = {"type": auth_type}
            for name, value in (values["auth"] or {}).items():
                if value not in (None, ""):
                    spec["authorization"][name] = value
            for name in SECRET_FIELDS.get(auth_type, []):
                spec["authorization"].setdefault(name, "")  # empty: keep the stored one
        if values["connection"]:
            spec["connection"] = values["connection"]
        if values["resources"]:
            spec["resources"] = [resource_spec(r) for r in values["resources"]]
        return spec

    def problems(self, spec: dict[str, Any]) -> list[str]:
        return spec_problems(spec, existing=self.connector)

    def _check_spec_on_validation(self, step: str, form) -> None:
        """Make ``form.is_valid()`` also check the spec's problems that belong to ``step``."""
        if getattr(self, "_checking", False):
            return
        validate = form.is_valid

        def is_valid() -> bool:
            if not validate():
                return False
            if step == "review":
                spec = self.build_spec()
                unplaced = [p for p in self.problems(spec) if not self._place(p, spec)]
                for problem in unplaced:
                    form.add_error(None, problem)
                return not unplaced
            spec = self.build_spec(current_step=step, current=form)
            ok = True
            for problem in self.problems(spec):
                place = self._place(problem, spec)
                if place and place[0] == step:
                    ok = False
                    _, index, field = place
                    if step == "resources":
                        form.add_error(index, field, problem)
                    else:
                        known = field if field in getattr(form, "fields", {"base_url": 1}) else None
                        form.add_error(known, problem)
            return ok

        form.is_valid = is_valid

    def _place(self, problem: str, spec: dict[str, Any]):
        kinds = [
            ((r.get("import") or {}).get("pagination") or {}).get("type", "none")
            for r in spec.get("resources") or []
        ]
        place = problem_place(problem, kinds)
        if place and place[0] == "auth" and not _auth_chosen(self):
            return ("auth_type", None, "type")
        if place and place[0] == "name" and self.connector is not None:
            return None
        return place

    # -- pages
    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form=form, **kwargs)
        context.update(admin.site.each_context(self.request))
        step = self.steps.current
        context.update(
            title=f"Change connector {self.connector.name}" if self.connector else "Add connector",
            connector=self.connector,
            step_title=STEP_TITLES.get(step, step),
            step_titles=[(s, STEP_TITLES.get(s, s)) for s in self.get_form_list()],
        )
        if step == "review":
            spec = self.build_spec()
            problems = [p for p in self.problems(spec)]
            context.update(
                plan=connector_plan(spec_normalize(spec)) if not problems else [],
                spec_json=json.dumps(masked(spec), indent=2),
                spec_problems=problems,
                spec_name=spec.get("name"),
            )
        return context

    def done(self, form_list, form_dict=None, **kwargs):
        spec = self.build_spec()
        review = (form_dict or {}).get("review")
        drop = bool(review and review.cleaned_data.get("drop_records"))
        try:
            result = connector_generate(spec=spec, actor=self.request.user, drop_records=drop)
        except SpecError as error:
            return self._review_again(list(error.problems))
        except PermissionDenied as error:
            return self._review_again([str(error) or "You may not change this namespace."])
        context = {
            **admin.site.each_context(self.request),
            "title": f"Connector {result.namespace} saved",
            "result": result,
            "connector": result.connector,
            "changes": [
                ("Created", result.created),
                ("Updated", result.updated),
                ("Removed", result.removed),
                ("Kept", result.kept),
            ],
        }
        return TemplateResponse(self.request, "connector_factory/done.html", context)

    def render_done(self, form, **kwargs):
        # A save refused by the generator keeps the steps (formtools resets them after done()).
        saved = copy.deepcopy(self.storage.data)
        response = super().render_done(form, **kwargs)
        if getattr(self, "_save_failed", False):
            self.storage.data = saved
        return response

    def _review_again(self, problems: list[str]):
        self._save_failed = True
        self.storage.current_step = "review"
        form = self.get_form("review")
        response = self.render(form)
        response.context_data["save_problems"] = problems  # type: ignore[attr-defined]
        return response
