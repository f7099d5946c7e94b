"""Admin pages under namespace permissions (see :mod:`apps.data.permissions`).

:class:`NamespacedAdmin` makes a ModelAdmin of elements with a ``namespace``
foreign key show a user only the elements of namespaces they may view, and
let them add, change and delete only in namespaces they may change. Model
permissions are not consulted: namespace permissions are the one rule, as in
the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models

from . import permissions
from .models import Namespace
from .usage import describe_users, emptied_users
from .widgets import JSONFormField

if TYPE_CHECKING:  # a mixin: the ModelAdmin after it provides what super() calls
    from django.contrib.admin import ModelAdmin as _MixinBase
else:
    _MixinBase = object


class ReferencesCheckedForm(forms.ModelForm):
    """Refuses references to other namespaces that the user saving may not make
    (:func:`apps.data.permissions.reference_problems`), as errors of their fields."""

    actor = None  # set per request by NamespacedAdmin.get_form

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # ModelForm's hook, undocumented
        many = {f.name for f in self.instance._meta.many_to_many}
        values = {name: self.cleaned_data[name] for name in many if name in self.cleaned_data}
        problems = permissions.reference_problems(self.instance, actor=self.actor, values=values)
        for name, messages in problems.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


def _is_element_model(model) -> bool:
    return model is Namespace or any(f.name == "namespace" for f in model._meta.concrete_fields)


class VisibleRelatedFilter(admin.RelatedFieldListFilter):
    """A sidebar filter of namespaces or elements that lists only those the user may see
    (Django's lists every row of the related table: other tenants' names)."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        visible = permissions.namespaces_for(request.user, permissions.VIEW)
        limit = (
            {"pk__in": visible} if field.related_model is Namespace else {"namespace__in": visible}
        )
        return field.get_choices(include_blank=False, ordering=ordering, limit_choices_to=limit)


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

    def get_deleted_objects(self, objs, request):
        """Elements whose reference a delete would empty (a webhook's connection…) are
        listed as protected: the delete is refused until they no longer use it."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        users = [text for obj in objs for text in describe_users(emptied_users(obj))]
        return deleted, counts, perms_needed, [*protected, *users]

    def delete_queryset(self, request, queryset) -> None:
        # "Delete selected" only checks has_delete_permission(request) without an object.
        if not request.user.is_superuser:
            changeable = permissions.namespaces_for(request.user, permissions.CHANGE)
            if queryset.exclude(**{f"{self.namespace_lookup}__in": changeable}).exists():
                raise PermissionDenied(
                    "Some of the selected elements are in namespaces you may not change."
                )
        super().delete_queryset(request, queryset)

    def get_list_filter(self, request):
        """Sidebar filters on namespaces and elements list only what the user may see."""
        filters = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str):
                try:
                    field = get_fields_from_path(self.model, entry)[-1]
                except FieldDoesNotExist:
                    field = None
                if (
                    field is not None
                    and field.is_relation
                    and _is_element_model(field.related_model)
                ):
                    entry = (entry, VisibleRelatedFilter)
            filters.append(entry)
        return filters

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (ReferencesCheckedForm, form), {"actor": request.user})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if related is Namespace:
            kwargs["queryset"] = permissions.namespaces_for(request.user, permissions.CHANGE)
        elif any(field.name == "namespace" for field in related._meta.fields):
            kwargs["queryset"] = self.usable(related, request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def usable(self, model, request):
        """The elements of ``model`` the user may refer to: those of namespaces they may
        change (viewing is not using)."""
        changeable = permissions.namespaces_for(request.user, permissions.CHANGE)
        return model._default_manager.filter(namespace__in=changeable).select_related("namespace")
