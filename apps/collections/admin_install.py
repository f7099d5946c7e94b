"""The admin's Install page: upload a document, see the plan, give the secrets, confirm.

Step one reads the file and shows the plan (a dry run: nothing is written) with a
password field per secret placeholder; step two installs the same document in one
transaction, or shows every problem, each with its JSON path.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from . import services
from .document import CollectionError
from .plan import Plan

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


class UploadForm(forms.Form):
    document = forms.FileField(
        label="Collection document",
        help_text="A JSON file made by Export (or manage.py export_collection).",
    )
    activate = forms.BooleanField(
        required=False, help_text="Let its schedulers and observers start (else: inactive)."
    )
    force = forms.BooleanField(
        required=False, help_text="Install even a version older than the one installed."
    )

    def clean_document(self):
        upload = self.cleaned_data["document"]
        if upload.size > MAX_DOCUMENT_BYTES:
            raise forms.ValidationError("The document is larger than 20 MB.")
        return upload.read()


def _secret_field(name: str) -> str:
    return f"secret-{name}"


class ConfirmForm(forms.Form):
    """The uploaded document (placeholders only: it holds no secret) and the secret values."""

    document = forms.CharField(widget=forms.HiddenInput)
    plan = forms.CharField(widget=forms.HiddenInput)  # the fingerprint of the plan shown
    activate = forms.BooleanField(required=False, widget=forms.HiddenInput)
    force = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, plan: Plan, **kwargs):
        super().__init__(*args, **kwargs)
        for secret in plan.secrets:
            keep = " Leave empty to keep the installed value." if secret.stored else ""
            self.fields[_secret_field(secret.name)] = forms.CharField(
                label=secret.name,
                required=secret.required and not secret.stored,
                strip=False,
                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                help_text=f"{secret.kind} {secret.element}, {secret.field}: "
                f"{secret.description}{keep}",
            )

    def secrets(self, plan: Plan) -> dict[str, str]:
        values = {s.name: self.cleaned_data.get(_secret_field(s.name)) for s in plan.secrets}
        return {name: value for name, value in values.items() if value}


def _options(data) -> dict[str, bool]:
    """activate and force, from cleaned data (booleans) or a posted form ("True", "on")."""
    return {k: str(data.get(k)).lower() in {"true", "on", "1"} for k in ("activate", "force")}


def install_view(model_admin, request):
    user = request.user
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Install a collection",
        "problems": [],
    }
    if request.method == "POST" and "document" in request.POST:
        return _confirm(model_admin, request, context)
    upload = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and upload.is_valid():
        document = upload.cleaned_data["document"]
        options = _options(upload.cleaned_data)
        try:
            plan = services.collection_plan(document, user=user, **options)
        except CollectionError as error:
            context["problems"] = error.problems
        else:
            text = document.decode() if isinstance(document, bytes) else document
            initial = {"document": text, "plan": plan.fingerprint, **options}
            form = ConfirmForm(initial=initial, plan=plan)
            return _plan_page(request, context, plan, form)
    return TemplateResponse(
        request, "admin/collections/collection/install.html", {**context, "upload": upload}
    )


def _plan_page(request, context, plan: Plan, form: ConfirmForm):
    context = {**context, "plan": plan, "form": form, "title": f"Install {plan.collection}"}
    return TemplateResponse(request, "admin/collections/collection/install_plan.html", context)


def _confirm(model_admin, request, context):
    document = request.POST.get("document", "")
    options = _options(request.POST)
    try:
        plan = services.collection_plan(document, user=request.user, **options)
    except CollectionError as error:
        upload = UploadForm()
        context = {**context, "problems": error.problems, "upload": upload}
        return TemplateResponse(request, "admin/collections/collection/install.html", context)
    if request.POST.get("plan") != plan.fingerprint:
        # The installation changed since the plan was shown: show the plan as it is now.
        data = {**request.POST.dict(), "plan": plan.fingerprint}
        form = ConfirmForm(initial=data, plan=plan)
        changed = {**context, "changed": True}
        return _plan_page(request, changed, plan, form)
    form = ConfirmForm(request.POST, plan=plan)
    if not form.is_valid():
        return _plan_page(request, context, plan, form)
    try:
        installed = services.collection_install(
            document, user=request.user, secrets=form.secrets(plan), **options
        )
    except CollectionError as error:
        return _plan_page(request, {**context, "problems": error.problems}, plan, form)
    counts = ", ".join(f"{n} {action}" for action, n in installed.plan.counts.items() if n)
    messages.success(request, f"Installed {installed.collection}: {counts}.")
    return redirect(reverse("admin:collections_collection_change", args=[installed.collection.pk]))
