"""Admin pages of collections: list, detail (every element linked), Export, Install
(upload, plan, confirm) and "Add to collection" on the element lists of other apps.

The "Add to collection" action is attached here to the ModelAdmins the other
apps registered (imports point down: those apps know nothing of collections).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html, format_html_join

from apps.data import permissions

from . import services
from .admin_install import install_view
from .kinds import KINDS
from .models import Collection
from .selectors import Member, collection_contents, collections_for, may


def element_admin_url(member: Member) -> str | None:
    opts = member.kind.model._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[member.element.pk])
    except NoReverseMatch:
        return None


def _why(member: Member) -> str:
    if member.chosen:
        return "chosen"
    return (
        "pulled in, needed by " + ", ".join(member.needed_by) if member.needed_by else "pulled in"
    )


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "version", "element_count", "updated_at"]
    search_fields = ["name", "title", "description"]
    fields = ["name", "title", "version", "description", "authors", "contents"]
    readonly_fields = ["contents"]
    actions = ["export"]
    change_list_template = "admin/collections/collection/change_list.html"
    change_form_template = "admin/collections/collection/change_form.html"

    def get_form(self, request, obj=None, **kwargs):
        kwargs["widgets"] = {"authors": forms.Textarea(attrs={"rows": 2, "cols": 60})}
        return super().get_form(request, obj, **kwargs)

    def get_queryset(self, request):
        return collections_for(request.user).annotate(element_count=Count("members"))

    @admin.display(description="elements", ordering="element_count")
    def element_count(self, obj) -> int:
        return obj.element_count

    @admin.display(description="elements")
    def contents(self, obj):
        members = collection_contents(obj) if obj.pk else []
        if not members:
            return "None yet: select elements in their lists and use “Add to collection”."
        rows = []
        for member in members:
            url = element_admin_url(member)
            link = (
                format_html('<a href="{}">{}</a>', url, member.reference)
                if url
                else member.reference
            )
            records = "with records" if member.with_records else ""
            rows.append((member.kind.label, link, _why(member), records))
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        return format_html(
            '<table class="collection-elements"><thead><tr><th>kind</th><th>element</th>'
            "<th>why</th><th></th></tr></thead><tbody>{}</tbody></table>",
            body,
        )

    # --- permissions: the namespaces of the collection's elements decide ----------

    def has_module_permission(self, request) -> bool:
        return permissions.namespaces_for(request.user, permissions.VIEW).exists()

    def has_view_permission(self, request, obj=None) -> bool:
        if obj is None:
            return self.has_module_permission(request)
        return may(request.user, obj, permissions.VIEW)

    def has_add_permission(self, request) -> bool:
        return permissions.namespaces_for(request.user, permissions.CHANGE).exists()

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is None:
            return self.has_add_permission(request)
        return may(request.user, obj, permissions.CHANGE)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        services.collection_save(
            name=obj.name, title=obj.title, version=obj.version, description=obj.description,
            authors=obj.authors, instance=obj, user=request.user,
        )  # fmt: skip

    def delete_model(self, request, obj):
        services.collection_delete(collection=obj, user=request.user)

    # --- export and install -----------------------------------------------------------

    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(view)

        return [
            path("install/", wrap(self.install), name="collections_collection_install"),
            path("<int:pk>/export/", wrap(self.export_view), name="collections_collection_export"),
            *super().get_urls(),
        ]

    def install(self, request):
        if not (self.has_add_permission(request) or request.user.has_perm("data.add_namespace")):
            raise PermissionDenied
        return install_view(self, request)

    def export_view(self, request, pk):
        return self._download(request, get_object_or_404(self.get_queryset(request), pk=pk))

    def _download(self, request, collection) -> HttpResponse:
        data = services.collection_export(collection=collection, user=request.user)
        response = HttpResponse(data, content_type="application/json")
        response["Content-Disposition"] = (
            f'attachment; filename="{collection.name}-{collection.version}.json"'
        )
        return response

    @admin.action(description="Export (download the document)")
    def export(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select one collection to export.", messages.WARNING)
            return None
        return self._download(request, queryset.get())


class AddToCollectionForm(forms.Form):
    collection = forms.ModelChoiceField(
        queryset=Collection.objects.none(),
        required=False,
        empty_label="(a new collection)",
        help_text="A collection you may change, or none for a new one named below.",
    )
    new_name = forms.CharField(
        label="New collection", required=False, help_text="The name of a new collection."
    )
    with_records = forms.BooleanField(
        required=False, help_text="Data types: their records travel with the collection too."
    )

    def __init__(self, *args, user, data_types: bool, **kwargs):
        super().__init__(*args, **kwargs)
        choice = self.fields["collection"]
        assert isinstance(choice, forms.ModelChoiceField)
        choice.queryset = collections_for(user, permissions.CHANGE)
        if not data_types:
            del self.fields["with_records"]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("collection") and not cleaned.get("new_name"):
            raise ValidationError("Choose a collection or name a new one.")
        return cleaned


@admin.action(description="Add to collection")
def add_to_collection(modeladmin, request, queryset):
    """Add the selected elements (and what they need) to a collection, on a page of its own."""
    data_types = modeladmin.model._meta.label == "data.DataType"
    applying = "apply" in request.POST
    form = AddToCollectionForm(
        request.POST if applying else None, user=request.user, data_types=data_types
    )
    if applying and form.is_valid():
        try:
            collection = form.cleaned_data["collection"] or services.collection_save(
                name=form.cleaned_data["new_name"], user=request.user
            )
            elements = list(queryset)
            added = services.collection_add(
                collection=collection,
                elements=elements,
                with_records=elements if form.cleaned_data.get("with_records") else [],
                user=request.user,
            )
        except (ValidationError, PermissionDenied) as error:
            text = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            modeladmin.message_user(request, text, messages.ERROR)
            return None
        pulled = ", ".join(str(m) for m in added.pulled_in) or "nothing"
        modeladmin.message_user(
            request,
            f"Added {len(added.added)} element(s) to collection {collection.name}; "
            f"pulled in: {pulled}.",
            messages.SUCCESS,
        )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Add to a collection",
        "form": form,
        "queryset": queryset,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/collections/add_to_collection.html", context)


def _attach_add_action() -> None:
    for kind in KINDS:
        model_admin = admin.site._registry.get(kind.model)
        if model_admin is not None and add_to_collection not in (model_admin.actions or []):
            model_admin.actions = [*(model_admin.actions or []), add_to_collection]


_attach_add_action()
