"""Running from the admin console: an algorithm with input, a flow now.

The algorithm's "Run with input" page checks the input against the
algorithm's parameters (names, required, types) as form errors before
anything runs, then calls :func:`services.algorithm_run`, as the API and the
CLI do. The flow's "Run now" button calls :func:`services.flow_run`.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from apps.data.widgets import JSONEditorWidget

from . import services
from .engine.algorithms import AlgorithmFailed, bind_arguments


class RunAlgorithmForm(forms.Form):
    input = forms.JSONField(
        initial=dict,
        widget=JSONEditorWidget(attrs={"rows": 10}),
        help_text="The arguments, as a JSON object of parameter name → value.",
    )
    wait = forms.BooleanField(
        required=False,
        label="Wait for the result",
        help_text="Run now and show the finished task; otherwise a worker runs it.",
    )

    def __init__(self, *args, algorithm, **kwargs):
        super().__init__(*args, **kwargs)
        self.algorithm = algorithm
        if not self.is_bound:  # a template to fill: every parameter, with its default
            self.initial["input"] = {
                p["name"]: p.get("default", _EXAMPLES.get(p.get("type", "any")))
                for p in algorithm.parameters
            }

    def clean_input(self):
        value = self.cleaned_data["input"]
        if not isinstance(value, dict):
            raise ValidationError('A JSON object of arguments, e.g. {"record": {...}}.')
        try:
            bind_arguments(self.algorithm, value)
        except AlgorithmFailed as error:
            raise ValidationError(str(error), code=error.code) from None
        return value


_EXAMPLES = {"string": "", "integer": 0, "number": 0, "boolean": False, "object": {},
             "array": [], "any": None}  # fmt: skip


def algorithm_run_view(model_admin, request, pk):
    algorithm = get_object_or_404(model_admin.get_queryset(request), pk=pk)
    if not model_admin.has_change_permission(request, algorithm):
        raise admin.sites.PermissionDenied
    form = RunAlgorithmForm(request.POST or None, algorithm=algorithm)
    if request.method == "POST" and form.is_valid():
        sync = form.cleaned_data["wait"]
        task = services.algorithm_run(
            algorithm=algorithm, arguments=form.cleaned_data["input"], actor=request.user,
            sync=sync,
        )  # fmt: skip
        if sync:
            messages.info(request, f"Algorithm {algorithm} ran: task #{task.pk} {task.status}.")
        else:
            messages.success(request, f"Algorithm {algorithm} enqueued as task #{task.pk}.")
        return redirect(reverse("admin:workflows_task_change", args=[task.pk]))
    context = {
        **model_admin.admin_site.each_context(request),
        "form": form,
        "object": algorithm,
        "original": algorithm,
        "opts": model_admin.model._meta,
        "title": f"Run {algorithm}",
    }
    return TemplateResponse(request, "admin/workflows/run_algorithm.html", context)


def flow_run_view(model_admin, request, pk):
    """The "Run now" button of a flow's page (a POST: the admin checks its CSRF token)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    flow = get_object_or_404(model_admin.get_queryset(request), pk=pk)
    if not model_admin.has_change_permission(request, flow):
        raise admin.sites.PermissionDenied
    try:
        task = services.flow_run(flow=flow, actor=request.user)
    except ValidationError as error:
        messages.error(request, f"Flow {flow}: {error.messages[0]}")
        return redirect(reverse("admin:workflows_flow_change", args=[flow.pk]))
    messages.success(request, f"Flow {flow}: task #{task.pk} enqueued.")
    return redirect(reverse("admin:workflows_task_change", args=[task.pk]))
