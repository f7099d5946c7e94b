"""Admin console pages of the workflows app.

Tasks show their status in colour and a progress bar, with their executions
and notifications; flows and algorithms have "Run now"; failed tasks "Retry".
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.urls import path, reverse
from django.utils.html import format_html
from django_celery_beat.models import ClockedSchedule, SolarSchedule

from apps.data.admin_mixins import NamespacedAdmin
from apps.data.widgets import JSONEditorWidget

from . import services
from .admin_run import algorithm_run_view, flow_run_view
from .models import Algorithm, Execution, Flow, Notification, Observer, Scheduler, Task, Translator

STATUS_COLOURS = {
    "pending": "#757575",
    "running": "#1565c0",
    "completed": "#2e7d32",
    "failed": "#c62828",
    "retrying": "#ef6c00",
    "broken": "#6a1b9a",
    "paused": "#9e9d24",
    "cancelled": "#424242",
}
LEVEL_COLOURS = {"info": "#1565c0", "notice": "#00838f", "warning": "#ef6c00", "error": "#c62828"}


def _badge(text: str, colour: str):
    return format_html(
        '<span style="color:#fff;background:{};padding:2px 8px;border-radius:8px">{}</span>',
        colour,
        text,
    )


def _json_widgets(*names: str) -> dict:
    return {name: JSONEditorWidget(attrs={"rows": 8}) for name in names}


class CodeWidget(forms.Textarea):
    def __init__(self, attrs=None):
        super().__init__(
            {
                "class": "json-editor-code",
                "rows": 20,
                "cols": 100,
                "spellcheck": "false",
                "style": "font-family: ui-monospace, monospace; width: 90%",
                **(attrs or {}),
            }
        )


@admin.register(Algorithm)
class AlgorithmAdmin(NamespacedAdmin, admin.ModelAdmin):
    list_display = ["__str__", "description", "time_limit", "updated_at"]
    list_filter = ["namespace"]
    list_select_related = ["namespace"]
    search_fields = ["name", "description", "code"]
    formfield_overrides = {}
    actions = ["run_now"]

    def get_form(self, request, obj=None, **kwargs):
        kwargs["widgets"] = {"code": CodeWidget(), **_json_widgets("parameters")}
        return super().get_form(request, obj, **kwargs)

    change_form_template = "admin/workflows/algorithm/change_form.html"

    def get_urls(self):
        run = self.admin_site.admin_view(self.run_view)
        return [path("<int:pk>/run/", run, name="workflows_algorithm_run"), *super().get_urls()]

    def run_view(self, request, pk):
        return algorithm_run_view(self, request, pk)

    @admin.action(description="Run now (no arguments)")
    def run_now(self, request, queryset):
        for algorithm in queryset:
            try:
                task = services.algorithm_run(algorithm=algorithm, arguments={}, actor=request.user)
            except ValidationError as error:  # it has required parameters
                self.message_user(
                    request,
                    f"{' '.join(error.messages)} Use “Run with input” on its page.",
                    level=messages.ERROR,
                )
                continue
            # Messages start with a word: the admin capitalises the first letter.
            self.message_user(request, f"Algorithm {algorithm}: task #{task.pk} enqueued.")


# Schedulers are the platform's way to run flows at times; django-celery-beat's solar and
# one-off (clocked) schedules are not used by them and only cluttered the admin index.
for _unused in (ClockedSchedule, SolarSchedule):
    if admin.site.is_registered(_unused):
        admin.site.unregister(_unused)


@admin.register(Translator)
class TranslatorAdmin(NamespacedAdmin, admin.ModelAdmin):
    list_display = ["__str__", "type", "style", "source_data_type", "target_data_type"]
    list_filter = ["type", "style", "namespace"]
    list_select_related = [
        "namespace",
        "source_data_type__namespace",
        "target_data_type__namespace",
    ]
    search_fields = ["name", "description"]

    def get_form(self, request, obj=None, **kwargs):
        kwargs["widgets"] = {"template": CodeWidget(), **_json_widgets("mapping")}
        return super().get_form(request, obj, **kwargs)


class EventAdmin(NamespacedAdmin, admin.ModelAdmin):
    list_display = ["__str__", "active", "updated_at"]
    list_filter = ["active", "namespace"]
    list_select_related = ["namespace"]
    search_fields = ["name", "description"]
    actions = ["activate", "deactivate"]

    @admin.action(description="Activate")
    def activate(self, request, queryset):
        for event in queryset:  # one by one: each save keeps its periodic task in sync
            event.active = True
            event.save()

    @admin.action(description="Deactivate")
    def deactivate(self, request, queryset):
        for event in queryset:
            event.active = False
            event.save()


@admin.register(Observer)
class ObserverAdmin(EventAdmin):
    list_display = ["__str__", "data_type", "on_created", "on_updated", "active"]
    fields = [
        "namespace",
        "name",
        "description",
        "active",
        "data_type",
        "on_created",
        "on_updated",
        "conditions",
        "trigger_evaluator",
    ]

    def get_form(self, request, obj=None, **kwargs):
        kwargs["widgets"] = _json_widgets("conditions")
        return super().get_form(request, obj, **kwargs)


@admin.register(Scheduler)
class SchedulerAdmin(EventAdmin):
    list_display = ["__str__", "expression", "active", "periodic_task"]
    fields = ["namespace", "name", "description", "active", "expression"]


@admin.register(Flow)
class FlowAdmin(NamespacedAdmin, admin.ModelAdmin):
    list_display = ["__str__", "translator", "event", "active", "last_task"]
    list_filter = ["active", "namespace", "translator__type"]
    list_select_related = ["namespace", "translator__namespace", "event__namespace"]
    search_fields = ["name", "description"]
    actions = ["run_now"]
    change_form_template = "admin/workflows/flow/change_form.html"
    fieldsets = [
        ("What", {"fields": ["namespace", "name", "description", "translator", "algorithm",
                             "data_type",
                             "scope", "scope_filter", "lot_size"]}),
        ("When", {"fields": ["event", "active"]}),
        ("Where to send", {"fields": ["webhook", "connection_role", "authorization",
                                      "template_values", "before_submit"]}),
        ("Answers", {"fields": ["response_translator", "response_data_type", "notify_request",
                                "notify_response"]}),
        ("Reliability", {"fields": ["auto_retry", "max_attempts", "discard_events"]}),
    ]  # fmt: skip

    def get_form(self, request, obj=None, **kwargs):
        kwargs["widgets"] = _json_widgets("scope_filter", "template_values")
        return super().get_form(request, obj, **kwargs)

    def get_urls(self):
        run = self.admin_site.admin_view(self.run_view)
        return [path("<int:pk>/run/", run, name="workflows_flow_run"), *super().get_urls()]

    def run_view(self, request, pk):
        return flow_run_view(self, request, pk)

    @admin.display(description="last run")
    def last_task(self, obj):
        task = obj.tasks.order_by("-created_at").first()
        if task is None:
            return "-"
        url = reverse("admin:workflows_task_change", args=[task.pk])
        return format_html(
            '<a href="{}">#{}</a> {}',
            url,
            task.pk,
            _badge(task.status, STATUS_COLOURS[task.status]),
        )

    @admin.action(description="Run now")
    def run_now(self, request, queryset):
        for flow in queryset:
            try:
                task = services.flow_run(flow=flow, actor=request.user)
            except ValidationError as error:
                self.message_user(request, f"Flow {flow}: {error.messages[0]}", messages.ERROR)
                continue
            self.message_user(request, f"Flow {flow}: task #{task.pk} enqueued.")


class ExecutionInline(admin.TabularInline):
    model = Execution
    extra = 0
    can_delete = False
    fields = ("attempt", "status", "started_at", "finished_at", "worker", "error", "trace")
    readonly_fields = fields

    @admin.display(description="traceback")
    def trace(self, obj):
        if not obj.traceback:
            return "-"
        return format_html("<details><summary>show</summary><pre>{}</pre></details>",
                           obj.traceback)  # fmt: skip

    def has_add_permission(self, request, obj=None):
        return False


class NotificationInline(admin.TabularInline):
    model = Notification
    extra = 0
    can_delete = False
    fields = ("created_at", "level", "message")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Task)
class TaskAdmin(NamespacedAdmin, admin.ModelAdmin):
    list_display = ["id", "description", "status_badge", "progress_bar", "error", "created_at"]
    list_filter = ["status", "kind", "namespace"]
    list_select_related = ["namespace"]
    search_fields = ["description"]
    readonly_fields = (
        "namespace",
        "kind",
        "status_badge",
        "progress_bar",
        "error",
        "description",
        "flow",
        "algorithm",
        "input_json",
        "state_json",
        "result_json",
        "attempts",
        "max_attempts",
        "owner",
        "created_at",
        "updated_at",
        "finished_at",
    )
    fields = readonly_fields
    inlines = [ExecutionInline, NotificationInline]
    actions = ["retry", "cancel"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # tasks change by running; actions below

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return _badge(obj.status, STATUS_COLOURS.get(obj.status, "#000"))

    def get_queryset(self, request):
        last_error = Execution.objects.filter(task=OuterRef("pk")).order_by("-attempt")
        return (
            super()
            .get_queryset(request)
            .annotate(last_error=Subquery(last_error.values("error")[:1]))
        )

    @admin.display(description="progress", ordering="progress")
    def progress_bar(self, obj):
        percent = max(0, min(100, round(obj.progress)))
        colour = STATUS_COLOURS["failed"] if obj.status == "failed" else "#43a047"
        return format_html(
            '<div style="display:flex;align-items:center;gap:6px">'
            '<div style="width:100px;background:#eee;border-radius:4px" title="{}%">'
            '<div style="width:{}%;background:{};height:10px;border-radius:4px"></div></div>'
            "<span>{}%</span></div>",
            percent, percent, colour, percent,
        )  # fmt: skip

    @admin.display(description="error")
    def error(self, obj):
        text = getattr(obj, "last_error", None) or ""
        return text if len(text) <= 160 else text[:160] + "…"

    def _pretty(self, value):
        return format_html("<pre>{}</pre>", json.dumps(value, indent=2, default=str)[:20000])

    @admin.display(description="input")
    def input_json(self, obj):
        return self._pretty(obj.input)

    @admin.display(description="state")
    def state_json(self, obj):
        return self._pretty(obj.state)

    @admin.display(description="result")
    def result_json(self, obj):
        return self._pretty(obj.result)

    def _may_run(self, request, task) -> bool:
        return NamespacedAdmin.has_change_permission(self, request, task)

    @admin.action(description="Retry")
    def retry(self, request, queryset):
        for task in queryset:
            if not self._may_run(request, task):
                self.message_user(request, f"Task #{task.pk}: not allowed.", messages.ERROR)
                continue
            try:
                services.task_retry(task=task)
                self.message_user(request, f"Task #{task.pk} enqueued again.")
            except ValidationError as error:
                self.message_user(request, error.messages[0], messages.WARNING)

    @admin.action(description="Cancel")
    def cancel(self, request, queryset):
        for task in queryset:
            if self._may_run(request, task):
                services.task_cancel(task=task)
        self.message_user(request, "Cancelled the unfinished tasks among those selected.")


MESSAGE_CHARS = 140


@admin.register(Notification)
class NotificationAdmin(NamespacedAdmin, admin.ModelAdmin):
    # Short columns: the message cut (whole on its page), the task as its number.
    list_display = ["created_at", "level_badge", "short_message", "task_link"]
    list_select_related = ["task"]
    list_filter = ["level", "namespace"]
    search_fields = ["message"]
    readonly_fields = [
        "namespace",
        "level",
        "message",
        "attachment",
        "task",
        "execution",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False

    @admin.display(description="level", ordering="level")
    def level_badge(self, obj):
        return _badge(obj.level, LEVEL_COLOURS.get(obj.level, "#000"))

    @admin.display(description="message")
    def short_message(self, obj):
        text = " ".join(obj.message.split())
        return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS] + "…"

    @admin.display(description="task", ordering="task")
    def task_link(self, obj):
        if obj.task_id is None:
            return "-"
        url = reverse("admin:workflows_task_change", args=[obj.task_id])
        badge = _badge(obj.task.status, STATUS_COLOURS.get(obj.task.status, "#000"))
        return format_html('<a href="{}">#{}</a> {}', url, obj.task_id, badge)
