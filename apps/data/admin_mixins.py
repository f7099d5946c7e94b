"""Admin pages under namespace permissions (see :mod:`apps.data.permissions`).

:class:`NamespacedAdmin` makes a ModelAdmin of elements with a ``namespace``
foreign key show a user only the elements of namespaces they may view, and
let them add, change and delete only in namespaces they may change. Model
permissions are not consulted: namespace permissions are the one rule, as in
the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import models

from . import permissions
from .models import Namespace
from .widgets import JSONFormField

if TYPE_CHECKING:  # a mixin: the ModelAdmin after it provides what super() calls
    from django.contrib.admin import ModelAdmin as _MixinBase
else:
    _MixinBase = object


class NamespacedAdmin(_MixinBase):
    """Mix into a ModelAdmin (before it): ``class XAdmin(NamespacedAdmin, admin.ModelAdmin)``."""

    namespace_lookup = "namespace"
    # Every JSON field gets the JSON editor, and syntax errors that say where.
    formfield_overrides = {models.JSONField: {"form_class": JSONFormField}}

    def namespace_of(self, obj) -> Namespace:
        return obj.namespace

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        visible = permissions.namespaces_for(request.user, permissions.VIEW)
        return queryset.filter(**{f"{self.namespace_lookup}__in": visible})

    def _allowed(self, request, obj, permission: str) -> bool:
        user = request.user
        if user.is_superuser:
            return True
        if obj is None:
            return permissions.namespaces_for(user, permission).exists()
        namespaces = permissions.namespaces_for(user, permission)
        return namespaces.filter(pk=self.namespace_of(obj).pk).exists()

    def has_module_permission(self, request) -> bool:
        return self._allowed(request, None, permissions.VIEW)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._allowed(request, obj, permissions.VIEW)

    def has_add_permission(self, request) -> bool:
        return self._allowed(request, None, permissions.CHANGE)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._allowed(request, obj, permissions.CHANGE)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._allowed(request, obj, permissions.CHANGE)

    def delete_queryset(self, request, queryset) -> None:
        # "Delete selected" only checks has_delete_permission(request) without an object.
        if not request.user.is_superuser:
            changeable = permissions.namespaces_for(request.user, permissions.CHANGE)
            if queryset.exclude(**{f"{self.namespace_lookup}__in": changeable}).exists():
                raise PermissionDenied(
                    "Some of the selected elements are in namespaces you may not change."
                )
        super().delete_queryset(request, queryset)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if related is Namespace:
            kwargs["queryset"] = permissions.namespaces_for(request.user, permissions.CHANGE)
        elif any(field.name == "namespace" for field in related._meta.fields):
            # Other elements can be referred to when their namespace is visible.
            visible = permissions.namespaces_for(request.user, permissions.VIEW)
            kwargs["queryset"] = related._default_manager.filter(namespace__in=visible)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
