"""Serializers of connections, connection roles and webhooks.

Elements refer to others by namespace and name, e.g. a connection's
``"authorization": {"namespace": "crm", "name": "default_authorization"}``.
Writes go through :mod:`apps.gateway.services`.
"""

from __future__ import annotations

from rest_framework import serializers

from apps.data.api.fields import ReferenceField
from apps.data.api.setup import NamespaceField, SetupSerializer, actor_of
from apps.data.models import Namespace
from apps.security.models import Authorization

from .. import services
from ..models import Connection, ConnectionRole, RequestLog, Webhook

TIMESTAMPS = ["created_at", "updated_at"]


class ElementSerializer(SetupSerializer):
    """Creates and updates through a service ``save(*, namespace, name, instance, **fields)``."""

    namespace = NamespaceField()

    def save_element(self, instance, validated_data):
        data = dict(validated_data)
        namespace = data.pop("namespace", instance.namespace if instance else None)
        name = data.pop("name", instance.name if instance else "")
        return type(self).service(
            namespace=namespace, name=name, instance=instance, actor=actor_of(self), **data
        )

    def create(self, validated_data):
        return self.save_element(None, validated_data)

    def update(self, instance, validated_data):
        return self.save_element(instance, validated_data)


class ConnectionSerializer(ElementSerializer):
    service = staticmethod(services.connection_save)
    authorization = ReferenceField(
        Authorization,
        allow_null=True,
        required=False,
        help_text='The authorization signing every request, as {"namespace": "crm", "name": '
        '"default_authorization"}; null for none. Its secrets are never shown here.',
    )

    class Meta:
        model = Connection
        fields = [
            "id", "namespace", "name", "base_url", "parameters", "headers",
            "template_parameters", "authorization", "connect_timeout", "read_timeout",
            "max_attempts", *TIMESTAMPS,
        ]  # fmt: skip
        read_only_fields = ["id", *TIMESTAMPS]


class WebhookSerializer(ElementSerializer):
    service = staticmethod(services.webhook_save)
    connection = ReferenceField(
        Connection,
        allow_null=True,
        required=False,
        help_text='The default connection, as {"namespace": "crm", "name": '
        '"default_connection"}; null for none.',
    )

    class Meta:
        model = Webhook
        fields = [
            "id", "namespace", "name", "path", "method", "parameters", "headers",
            "body_template", "records_path", "pagination", "connection", *TIMESTAMPS,
        ]  # fmt: skip
        read_only_fields = ["id", *TIMESTAMPS]


class ConnectionRoleSerializer(ElementSerializer):
    service = staticmethod(services.connection_role_save)
    connections = ReferenceField(
        Connection,
        many=True,
        required=False,
        help_text='Connections, each as {"namespace": "crm", "name": "default_connection"}.',
    )
    webhooks = ReferenceField(
        Webhook,
        many=True,
        required=False,
        help_text='Webhooks, each as {"namespace": "crm", "name": "get_contacts"}.',
    )

    class Meta:
        model = ConnectionRole
        fields = ["id", "namespace", "name", "connections", "webhooks", *TIMESTAMPS]
        read_only_fields = ["id", *TIMESTAMPS]


class RequestLogSerializer(serializers.ModelSerializer):
    """One attempt of an outbound call, as logged: redacted headers, bodies cut short."""

    namespace: serializers.SlugRelatedField[Namespace] = serializers.SlugRelatedField(
        slug_field="name", read_only=True
    )
    webhook: serializers.StringRelatedField[Webhook] = serializers.StringRelatedField()
    connection: serializers.StringRelatedField[Connection] = serializers.StringRelatedField()

    class Meta:
        model = RequestLog
        fields = [
            "id", "namespace", "webhook", "connection", "method", "url", "status",
            "duration_ms", "attempt", "request_headers", "request_body", "response_body",
            "error", "created_at",
        ]  # fmt: skip
        read_only_fields = fields
