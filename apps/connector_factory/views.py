"""The Connector Factory pages in the admin: the list, Details, Import now, Delete.

Thin views: reads go through the selectors of the platform's permission rules
(a user sees the connectors of the namespaces they may view and changes those
they may change), writes through apps.connector_factory.services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from apps.data import permissions
from apps.gateway.models import Webhook

from .forms import DeleteForm
from .models import Connector
from .services import connector_delete, connector_elements, connector_import_now


def _context(request, **extra) -> dict[str, Any]:
    return {**admin.site.each_context(request), **extra}


def visible_connectors(user):
    return (
        Connector.objects.filter(namespace__in=permissions.namespaces_for(user, permissions.VIEW))
        .select_related("namespace")
        .order_by("namespace__name")
    )


def _connector(request, name: str, *, change: bool = False) -> Connector:
    connector = visible_connectors(request.user).filter(namespace__name=name).first()
    if connector is None:
        raise Http404("No such connector.")
    if change and not permissions.can_change(request.user, connector.namespace):
        raise PermissionDenied("You may not change this connector.")
    return connector


def admin_url(obj) -> str | None:
    """The admin change page of ``obj``, if it has one."""
    opts = obj._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return None


def connector_list(request):
    changeable = set(
        permissions.namespaces_for(request.user, permissions.CHANGE).values_list("pk", flat=True)
    )
    rows = [
        {"connector": c, "can_change": c.namespace_id in changeable}
        for c in visible_connectors(request.user)
    ]
    context = _context(request, title="Connector Factory", rows=rows)
    return TemplateResponse(request, "connector_factory/index.html", context)


def connector_details(request, name: str):
    connector = _connector(request, name)
    elements = [
        {
            "kind": obj._meta.verbose_name,
            "name": getattr(obj, "name", str(obj)),
            "url": admin_url(obj),
            "obj": obj,
        }
        for obj in connector_elements(connector)
    ]
    resources = []
    for resource in connector.spec.get("resources") or []:
        plural = resource.get("plural") or f"{resource['name']}s"
        webhook = Webhook.objects.filter(
            namespace=connector.namespace, name=f"get_{plural}"
        ).first()
        try_url = reverse("admin:gateway_webhook_try", args=[webhook.pk]) if webhook else None
        resources.append(
            {
                "name": resource["name"],
                "plural": plural,
                "processes": resource.get("processes") or [],
                "try_url": try_url,
            }
        )
    context = _context(
        request,
        title=f"Connector {connector.name}",
        connector=connector,
        elements=elements,
        resources=resources,
        can_change=permissions.can_change(request.user, connector.namespace),
    )
    return TemplateResponse(request, "connector_factory/details.html", context)


@require_POST
def connector_import(request, name: str, resource: str):
    connector = _connector(request, name, change=True)
    try:
        task = connector_import_now(connector=connector, resource=resource, actor=request.user)
    except LookupError as error:  # no such resource, or one that does not import
        raise Http404(str(error)) from error
    url = admin_url(task)
    link = format_html('<a href="{}">task {}</a>', url, task.pk) if url else f"task {task.pk}"
    messages.success(request, format_html("Import of {} started: {}.", resource, link))
    return redirect("connector_factory:details", name=connector.name)


def connector_delete_view(request, name: str):
    connector = _connector(request, name, change=True)
    form = DeleteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        connector_delete(
            connector=connector, actor=request.user, drop_records=form.cleaned_data["drop_records"]
        )
        messages.success(request, f"The connector {name} was deleted.")
        return HttpResponseRedirect(reverse("connector_factory:index"))
    context = _context(
        request,
        title=f"Delete connector {connector.name}?",
        connector=connector,
        form=form,
        elements=connector_elements(connector),
    )
    return TemplateResponse(request, "connector_factory/delete.html", context)
