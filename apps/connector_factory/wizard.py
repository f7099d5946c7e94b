"""The Connector Factory wizard: the spec of DESIGN §7 built page by page.

Steps: name → authorization type → its fields (skipped for "none") →
connection → resources → review. Each step's data is kept in the session
(secret fields encrypted), the spec is assembled from the steps by
:meth:`ConnectorWizard.build_spec` (the conversions are in wizard_spec.py),
and on every submit the spec is checked with ``spec_problems``: a problem
whose path belongs to the step being submitted is shown next to its field
there; one that belongs to no step shows at the top of the review page. Save
calls ``connector_generate``; nothing here writes.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from formtools.wizard.views import SessionWizardView

from apps.data import permissions
from apps.security import crypto

from . import forms as wizard_forms
from .generator import connector_generate, connector_plan
from .models import Connector
from .services import connector_spec_for_edit
from .spec import SECRET_FIELDS, SpecError, spec_normalize, spec_problems
from .wizard_spec import initial_from_spec, masked, problem_place, resource_spec

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


# --- the view ----------------------------------------------------------------------------


def _auth_chosen(wizard: ConnectorWizard) -> bool:
    return wizard.auth_type() != "none"


SAVED_KEY = "connector_factory_saved"


def connector_saved(request, name: str):
    """The completion page of a save (once; a reload then shows the connector's Details)."""
    result = request.session.get(SAVED_KEY)
    if not result or result.get("namespace") != name:
        return redirect("connector_factory:details", name=name)
    del request.session[SAVED_KEY]
    context = {
        **admin.site.each_context(request),
        "title": f"Connector {name} saved",
        "result": result,
        "changes": [
            ("Created", result["created"]),
            ("Updated", result["updated"]),
            ("Removed", result["removed"]),
            ("Kept", result["kept"]),
        ],
    }
    return TemplateResponse(request, "connector_factory/done.html", context)


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
            # Only the wizard's own store holds encrypted values; a submit is taken as typed.
            stored = data is not None and data is not self.request.POST
            if stored and data.get(f"auth-{ENCRYPTED_MARK}"):
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
            count = data.get(total, "")
            data[total] = str(int(count) + 1) if count.isdigit() else count
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
        # Post/redirect/get: reloading the completion page must not send the last step again.
        self.request.session[SAVED_KEY] = {
            "namespace": result.namespace,
            "elements": [name for _, name in result.elements],
            "created": result.created,
            "updated": result.updated,
            "removed": result.removed,
            "kept": result.kept,
        }
        return redirect("connector_factory:saved", name=result.namespace)

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
