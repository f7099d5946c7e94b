"""Admin console pages for namespaces, data types and records."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, TextField
from django.db.models.functions import Cast
from django.utils.html import format_html
from guardian.admin import GuardedModelAdminMixin

from . import permissions, services
from .admin_mixins import NamespacedAdmin
from .models import DataType, Namespace, Record
from .widgets import JSONEditorWidget, JSONFormField

PREVIEW_CHARS = 120


@admin.register(Namespace)
class NamespaceAdmin(  # type: ignore[misc]  # guardian types change_form_template as str
    NamespacedAdmin, GuardedModelAdminMixin, admin.ModelAdmin
):
    """Namespaces, with guardian's "Object permissions" page: who may view or change."""

    list_display = ["name", "title", "data_type_count", "updated_at"]
    search_fields = ["name", "title"]
    namespace_lookup = "pk"

    def namespace_of(self, obj):
        return obj

    def has_add_permission(self, request) -> bool:
        return request.user.has_perm("data.add_namespace")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:  # its creator may see and change it
            permissions.grant(request.user, obj, change=True)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(data_type_count=Count("data_types"))

    @admin.display(description="data types", ordering="data_type_count")
    def data_type_count(self, obj):
        return obj.data_type_count


class DataTypeForm(forms.ModelForm):
    class Meta:
        model = DataType
        fields = ["namespace", "name", "title", "primary_key", "new_key_prefix", "schema"]
        widgets = {"schema": JSONEditorWidget()}
        field_classes = {"schema": JSONFormField}


@admin.register(DataType)
class DataTypeAdmin(NamespacedAdmin, admin.ModelAdmin):
    form = DataTypeForm
    list_display = ["__str__", "title", "primary_key", "schema_version", "record_count"]
    list_filter = ["namespace"]
    list_select_related = ["namespace"]
    search_fields = ["name", "title", "namespace__name"]
    readonly_fields = ["schema_version", "records_link"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(record_count=Count("records"))

    def save_model(self, request, obj, form, change):
        before = DataType.objects.filter(pk=obj.pk).values_list("schema_version", flat=True)
        version = before.first() if change else None
        super().save_model(request, obj, form, change)
        if change and obj.schema_version != version:
            warning = services.schema_change_warning(obj)
            if warning:
                self.message_user(request, warning, level=messages.WARNING)

    @admin.display(description="records", ordering="record_count")
    def record_count(self, obj):
        return obj.record_count

    @admin.display(description="records")
    def records_link(self, obj):
        if not obj.pk:
            return "-"
        return format_html(
            '<a href="../../../record/?data_type__id__exact={}">Show the records</a>', obj.pk
        )


class RecordForm(forms.ModelForm):
    class Meta:
        model = Record
        fields = ["data_type", "data"]
        widgets = {"data": JSONEditorWidget()}
        field_classes = {"data": JSONFormField}

    def clean(self):
        cleaned = super().clean()
        data_type = cleaned.get("data_type")
        if data_type is not None and "data" in cleaned:
            try:
                key = services.record_check(data_type=data_type, data=cleaned["data"])
            except ValidationError as error:
                self.add_error("data", error)
                return cleaned
            if self.instance.pk and data_type.primary_key and key != self.instance.key:
                self.add_error(
                    "data",
                    f"The primary key {data_type.primary_key!r} cannot change here "
                    f"(this record's key is {self.instance.key!r}); add a new record instead.",
                )
            elif not self.instance.pk and Record.objects.filter(data_type=data_type, key=key):
                self.add_error("data", f"A record with key {key!r} exists already.")
        return cleaned


@admin.register(Record)
class RecordAdmin(NamespacedAdmin, admin.ModelAdmin):
    form = RecordForm
    namespace_lookup = "data_type__namespace"

    def namespace_of(self, obj):
        return obj.data_type.namespace

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "data_type":  # records are added where the user may change
            changeable = permissions.namespaces_for(request.user, permissions.CHANGE)
            kwargs["queryset"] = DataType.objects.filter(namespace__in=changeable)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    list_display = ["key", "data_type", "preview", "updated_at"]
    list_filter = ["data_type"]
    list_select_related = ["data_type__namespace"]
    search_fields = ["key"]
    readonly_fields = ["key", "created_at", "updated_at"]
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).with_key_number()

    def get_ordering(self, request):
        return ["data_type", *Record.objects.key_order()]

    def get_search_results(self, request, queryset, search_term):
        # The key or anywhere in the data, within what the filters (data type…) kept.
        if not search_term:
            return queryset, False
        queryset = queryset.annotate(text=Cast("data", TextField()))
        matches = Q(key__icontains=search_term) | Q(text__icontains=search_term)
        return queryset.filter(matches), False

    @admin.display(description="data")
    def preview(self, obj):
        text = json.dumps(obj.data, ensure_ascii=False)
        return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"

    def save_model(self, request, obj, form, change):
        # Through the records service, like every other write of a record.
        saved, _ = services.record_save(
            data_type=obj.data_type, data=obj.data, key=obj.key if change else None
        )
        obj.pk, obj.key = saved.pk, saved.key
