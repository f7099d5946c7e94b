"""Writes of gateway elements, and pruning the request log.

Every create or change of a connection, connection role or webhook (API,
admin, collections, the connector factory) goes through these functions, so
that model validation always runs. Calls to remote APIs live in
:mod:`apps.gateway.client`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.data.models import Namespace
from apps.data.services import element_save as _element_save

from .models import Connection, ConnectionRole, RequestLog, Webhook


def connection_save(
    *,
    namespace: Namespace,
    name: str,
    instance: Connection | None = None,
    actor=None,
    **fields: Any,
) -> Connection:
    """Create or change a connection; ``fields`` are its other model fields (base_url…).

    ``actor``, the user saving, must be allowed the references to other namespaces
    (as in every ``*_save``; see :func:`apps.data.services.element_save`)."""
    return _element_save(
        instance or Connection(), {"namespace": namespace, "name": name, **fields}, actor=actor
    )


def webhook_save(
    *, namespace: Namespace, name: str, instance: Webhook | None = None, actor=None, **fields: Any
) -> Webhook:
    """Create or change a webhook; ``fields`` are its other model fields (path, method…)."""
    return _element_save(
        instance or Webhook(), {"namespace": namespace, "name": name, **fields}, actor=actor
    )


def connection_role_save(
    *,
    namespace: Namespace,
    name: str,
    connections: Iterable[Connection] | None = None,
    webhooks: Iterable[Webhook] | None = None,
    instance: ConnectionRole | None = None,
    actor=None,
) -> ConnectionRole:
    """Create or change a connection role; None leaves connections/webhooks as they are."""
    fields: dict[str, Any] = {"namespace": namespace, "name": name}
    if connections is not None:
        fields["connections"] = list(connections)
    if webhooks is not None:
        fields["webhooks"] = list(webhooks)
    return _element_save(instance or ConnectionRole(), fields, actor=actor)


def request_logs_prune(*, days: int | None = None) -> int:
    """Delete request log rows older than ``days`` (default: REQUEST_LOG_RETENTION_DAYS).

    Returns how many were deleted.
    """
    days = settings.REQUEST_LOG_RETENTION_DAYS if days is None else days
    if days < 0:
        raise ValueError("days must be 0 or more")
    deleted, _ = RequestLog.objects.older_than(timezone.now() - timedelta(days=days)).delete()
    return deleted
