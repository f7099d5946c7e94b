"""Setup endpoints of the gateway: /api/v2/setup/connection|connection_role|webhook/,
and the request log of outbound calls: /api/v2/setup/request_log/ (read only)."""

from __future__ import annotations

from rest_framework import mixins, viewsets

from apps.data import permissions
from apps.data.api.setup import NamespacedViewSet, narrowed

from ..models import Connection, ConnectionRole, RequestLog, Webhook
from .serializers import (
    ConnectionRoleSerializer,
    ConnectionSerializer,
    RequestLogSerializer,
    WebhookSerializer,
)


class ConnectionViewSet(NamespacedViewSet):
    serializer_class = ConnectionSerializer
    queryset = Connection.objects.select_related("namespace", "authorization__namespace")


class ConnectionRoleViewSet(NamespacedViewSet):
    serializer_class = ConnectionRoleSerializer
    queryset = ConnectionRole.objects.select_related("namespace").prefetch_related(
        "connections__namespace", "webhooks__namespace"
    )


class WebhookViewSet(NamespacedViewSet):
    serializer_class = WebhookSerializer
    queryset = Webhook.objects.select_related("namespace", "connection__namespace")


class RequestLogViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every attempt of every outbound call of the namespaces you can see, newest first:
    ``?webhook=<id or ns.name>``, ``?connection=…``, ``?status=500``, ``?failed=1``
    (no answer or 4xx/5xx)."""

    serializer_class = RequestLogSerializer
    queryset = RequestLog.objects.select_related(
        "namespace", "webhook__namespace", "connection__namespace"
    )

    def get_queryset(self):
        visible = permissions.namespaces_for(self.request.user, permissions.VIEW)
        queryset = super().get_queryset().filter(namespace__in=visible)
        params = self.request.query_params
        allowed = {"webhook": "element", "connection": "element", "status": "id"}
        queryset = narrowed(queryset, params, allowed)
        if params.get("failed") in {"1", "true"}:
            from django.db.models import Q

            queryset = queryset.filter(Q(status__isnull=True) | Q(status__gte=400))
        return queryset
