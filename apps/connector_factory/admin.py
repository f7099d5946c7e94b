"""The admin of connectors: a list and a read-only view (the wizard is their editor)."""

from __future__ import annotations

from django.contrib import admin

from apps.data import permissions

from .models import Connector
from .selectors import connectors_for


@admin.register(Connector)
class ConnectorAdmin(admin.ModelAdmin):
    list_display = ["__str__", "collection", "resources", "updated_at"]
    list_select_related = ["namespace", "collection"]
    search_fields = ["namespace__name"]
    fields = ["namespace", "collection", "spec", "created_by", "created_at", "updated_at"]
    readonly_fields = ("namespace", "collection", "spec", "created_by", "created_at", "updated_at")

    @admin.display(description="resources")
    def resources(self, connector: Connector) -> str:
        return ", ".join(r.get("name", "?") for r in connector.spec.get("resources", []))

    def get_actions(self, request):
        return {}  # deleting goes through connector_delete, one connector at a time

    def get_queryset(self, request):
        return connectors_for(request.user)

    def has_add_permission(self, request) -> bool:
        return False  # made by the wizard, create_connector or the API, from a spec

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        if obj is None:
            return request.user.is_active and request.user.is_staff
        return permissions.can_view(request.user, obj.namespace)

    def has_delete_permission(self, request, obj=None) -> bool:
        return obj is not None and permissions.can_change(request.user, obj.namespace)

    def delete_model(self, request, obj: Connector) -> None:
        from .services import connector_delete

        connector_delete(connector=obj, actor=request.user)
