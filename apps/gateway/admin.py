"""Admin pages for connections, connection roles, webhooks (with "Try") and the request log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db import models
from django.urls import path, reverse
from django.utils.html import format_html

from apps.data.admin_mixins import NamespacedAdmin
from apps.data.widgets import JSONEditorWidget

from . import services
from .admin_try import webhook_try_view
from .forms import PaginationField
from .models import Connection, ConnectionRole, RequestLog, Webhook


class ServiceSaveAdmin(NamespacedAdmin, admin.ModelAdmin):
    """Saves through the element's service, like the API does."""

    service: Callable[..., Any] | None = None  # the element's save service, e.g. webhook_save
    formfield_overrides = {models.JSONField: {"widget": JSONEditorWidget(attrs={"rows": 6})}}
    list_filter = ["namespace"]
    list_select_related = ["namespace"]
    search_fields = ["name", "namespace__name"]

    def save_model(self, request, obj, form, change):
        type(self).service(namespace=obj.namespace, name=obj.name, instance=obj, actor=request.user)


@admin.register(Connection)
class ConnectionAdmin(ServiceSaveAdmin):
    service = staticmethod(services.connection_save)
    list_display = ["__str__", "base_url", "authorization", "max_attempts"]
    list_select_related = ["namespace", "authorization__namespace"]
    fieldsets = [
        (None, {"fields": ["namespace", "name", "base_url", "authorization"]}),
        ("Sent with every call", {"fields": ["parameters", "headers", "template_parameters"]}),
        ("Reliability", {"fields": ["connect_timeout", "read_timeout", "max_attempts"]}),
    ]


@admin.register(Webhook)
class WebhookAdmin(ServiceSaveAdmin):
    service = staticmethod(services.webhook_save)
    change_form_template = "admin/gateway/webhook/change_form.html"
    list_display = ["__str__", "method", "path", "connection", "try_link"]
    list_select_related = ["namespace", "connection__namespace"]
    fieldsets = [
        (None, {"fields": ["namespace", "name", "method", "path", "connection"]}),
        ("Request", {"fields": ["parameters", "headers", "body_template"]}),
        ("Answer", {"fields": ["records_path", "pagination"]}),
    ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "pagination":  # a type select and its options, not raw JSON
            return PaginationField(
                required=False, label=db_field.verbose_name.capitalize(),
                help_text="How pages follow each other: choose a type, then fill its options.",
            )  # fmt: skip
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_urls(self):
        view = self.admin_site.admin_view(self.try_view)
        return [
            path("<path:object_id>/try/", view, name="gateway_webhook_try"),
            *super().get_urls(),
        ]

    def try_view(self, request, object_id):
        return webhook_try_view(self, request, object_id)

    @admin.display(description="try")
    def try_link(self, obj):
        return format_html(
            '<a href="{}">Try</a>', reverse("admin:gateway_webhook_try", args=[obj.pk])
        )


@admin.register(ConnectionRole)
class ConnectionRoleAdmin(ServiceSaveAdmin):
    service = staticmethod(services.connection_role_save)
    list_display = ["__str__", "connection_count", "webhook_count"]
    filter_horizontal = ["connections", "webhooks"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # As NamespacedAdmin does for foreign keys: only elements the user may use.
        kwargs["queryset"] = self.usable(db_field.related_model, request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="connections")
    def connection_count(self, obj):
        return obj.connections.count()

    @admin.display(description="webhooks")
    def webhook_count(self, obj):
        return obj.webhooks.count()


@admin.register(RequestLog)
class RequestLogAdmin(NamespacedAdmin, admin.ModelAdmin):
    """Read-only: rows are written by the client and removed by prune_request_logs."""

    list_display = ["created_at", "method", "url", "status", "duration_ms", "attempt", "webhook"]
    list_filter = ["status", "method", "namespace", "webhook", "created_at"]
    list_select_related = ["webhook__namespace"]
    search_fields = ["url", "error"]
    date_hierarchy = "created_at"
    list_per_page = 100

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
