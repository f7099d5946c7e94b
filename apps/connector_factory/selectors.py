"""Reads of connectors: which ones a user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.data import permissions

from .models import Connector


def connectors_for(user, permission: str = permissions.VIEW) -> QuerySet[Connector]:
    """The connectors whose namespace ``user`` may view (or change, with CHANGE)."""
    return Connector.objects.filter(
        namespace__in=permissions.namespaces_for(user, permission)
    ).select_related("namespace", "collection")
