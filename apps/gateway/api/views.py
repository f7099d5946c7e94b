"""Setup endpoints of the gateway: /api/v2/setup/connection|connection_role|webhook/,
and the request log of outbound calls: /api/v2/setup/request_log/ (read only)."""

from __future__ import annotations

import json

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from apps.data import permissions
from apps.data.api.setup import ListFilters, NamespacedViewSet, narrowed

from ..admin_try import TryForm, webhook_try
from ..models import Connection, ConnectionRole, RequestLog, Webhook
from .serializers import (
    ConnectionRoleSerializer,
    ConnectionSerializer,
    RequestLogSerializer,
    WebhookSerializer,
)


class TryInputSerializer(serializers.Serializer):
    connection = serializers.CharField(required=False, help_text="ns.name; default: the webhook's")
    template_values = serializers.DictField(required=False)
    parameters = serializers.DictField(required=False)
    body = serializers.JSONField(required=False, allow_null=True)
    all_pages = serializers.BooleanField(required=False, default=False)


class TryResultSerializer(serializers.Serializer):
    status = serializers.IntegerField(allow_null=True)
    url = serializers.CharField()
    headers = serializers.DictField()
    records = serializers.ListField()
    shown = serializers.IntegerField()
    stats = serializers.DictField()
    capped = serializers.BooleanField()
    error = serializers.CharField()


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

    @extend_schema(request=TryInputSerializer, responses=TryResultSerializer)
    @action(detail=True, methods=["post"], url_path="try")
    def try_(self, request, pk=None):
        """Call the webhook once, as the admin's Try page does: the first page's status,
        redacted headers and first records, the page and record counts, or the error
        (a 200 either way: the call was made). Through its own connection, or another
        (``"connection": "ns.name"``) of a namespace you may change."""
        webhook = self.get_object()
        body = TryInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        given = body.validated_data
        connection = None
        if given.get("connection"):
            namespace, _, name = given["connection"].partition(".")
            connection = Connection.objects.filter(namespace__name=namespace, name=name).first()
            if connection is None or not permissions.can_view(request.user, connection.namespace):
                unknown = f"There is no connection {given['connection']} that you can see."
                raise DRFValidationError({"connection": unknown})
        form = TryForm(
            {
                "connection": connection.pk if connection else "",
                "template_values": json.dumps(given.get("template_values") or {}),
                "parameters": json.dumps(given.get("parameters") or {}),
                "body": "" if given.get("body") is None else json.dumps(given["body"]),
                "all_pages": given.get("all_pages") or "",
            },
            webhook=webhook,
            user=request.user,
        )
        if not form.is_valid():
            raise DRFValidationError(form.errors)
        result = webhook_try(webhook=webhook, **form.cleaned_data)
        return Response(
            {
                "status": result.status, "url": result.url, "headers": result.headers,
                "records": result.raw, "shown": result.shown, "stats": result.stats,
                "capped": result.capped, "error": result.error,
            }
        )  # fmt: skip


class RequestLogViewSet(
    ListFilters, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Every attempt of every outbound call of the namespaces you can see, newest first:
    ``?webhook=<id or ns.name>``, ``?connection=…``, ``?status=500``, ``?failed=1``
    (no answer or 4xx/5xx)."""

    serializer_class = RequestLogSerializer
    list_filters = {
        "webhook": "the webhook's id or namespace.name",
        "connection": "the connection's id or namespace.name",
        "status": "the HTTP status of the answer (100-599)",
        "failed": "1: calls without an answer or answered 4xx/5xx",
    }
    queryset = RequestLog.objects.select_related(
        "namespace", "webhook__namespace", "connection__namespace"
    )

    def get_queryset(self):
        visible = permissions.namespaces_for(self.request.user, permissions.VIEW)
        queryset = super().get_queryset().filter(namespace__in=visible)
        params = self.request.query_params
        queryset = narrowed(queryset, params, {"webhook": "element", "connection": "element"})
        if params.get("status"):
            raw = params["status"]
            if not (raw.isdigit() and 100 <= int(raw) <= 599):
                raise DRFValidationError({"status": f"{raw!r} is not an HTTP status (100-599)."})
            queryset = queryset.filter(status=int(raw))
        failed = params.get("failed")
        if failed not in (None, "", "0", "1", "true", "false"):
            raise DRFValidationError({"failed": f"{failed!r}: give 1 (or true) or 0."})
        if failed in {"1", "true"}:
            from django.db.models import Q

            queryset = queryset.filter(Q(status__isnull=True) | Q(status__gte=400))
        return queryset
