"""Setup endpoints of the gateway: /api/v2/setup/connection|connection_role|webhook/."""

from __future__ import annotations

from apps.data.api.setup import NamespacedViewSet

from ..models import Connection, ConnectionRole, Webhook
from .serializers import ConnectionRoleSerializer, ConnectionSerializer, WebhookSerializer


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
