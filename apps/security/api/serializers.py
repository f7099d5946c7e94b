"""Serializers of providers, clients and authorizations; secrets are write-only.

A secret field is accepted on writes and never returned; ``<field>_set``
tells whether one is stored. Leaving a secret out of an update keeps it;
sending ``""`` clears it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework import serializers

from apps.data.api.setup import NamespaceField, SetupSerializer, actor_of

from .. import services
from ..models import Authorization, AuthorizationClient, AuthorizationProvider
from .fields import IsSetField, ReferenceField

ELEMENT_FIELDS = ["id", "namespace", "name"]
TIMESTAMPS = ["created_at", "updated_at"]


class ElementSerializer(SetupSerializer):
    """Saves through ``service`` (one of apps.security.services' ``*_save``)."""

    namespace = NamespaceField()
    service: Callable[..., Any]
    # Keyword arguments the service requires; on partial updates they keep their values.
    service_keys: tuple[str, ...] = ("namespace", "name")
    secret_fields: tuple[str, ...] = ()

    def get_fields(self):
        fields = super().get_fields()
        for name in self.secret_fields:
            model_field = self.Meta.model._meta.get_field(name)
            fields[name] = serializers.CharField(
                write_only=True,
                required=False,
                allow_blank=True,
                trim_whitespace=False,
                style={"input_type": "password"},
                help_text=f"{model_field.help_text} Write-only.",
            )
            fields[f"{name}_set"] = IsSetField(source=name, help_text=f"Whether {name} is set.")
        return fields

    def save_element(self, instance, validated_data: dict[str, Any]):
        data = dict(validated_data)
        keys = {
            key: data.pop(key) if key in data else getattr(instance, key)
            for key in self.service_keys
        }
        return type(self).service(instance=instance, actor=actor_of(self), **keys, **data)

    def create(self, validated_data):
        return self.save_element(None, validated_data)

    def update(self, instance, validated_data):
        return self.save_element(instance, validated_data)


class AuthorizationProviderSerializer(ElementSerializer):
    service = staticmethod(services.authorization_provider_save)
    service_keys = ("namespace", "name", "token_url")

    class Meta:
        model = AuthorizationProvider
        fields = [
            *ELEMENT_FIELDS, "authorize_url", "token_url", "scope_separator", "token_method",
            "client_authentication", "refresh_token_strategy", *TIMESTAMPS,
        ]  # fmt: skip
        read_only_fields = TIMESTAMPS


class AuthorizationClientSerializer(ElementSerializer):
    provider = ReferenceField(AuthorizationProvider)
    service = staticmethod(services.authorization_client_save)
    service_keys = ("namespace", "name", "provider", "client_id")
    secret_fields = ("client_secret",)

    class Meta:
        model = AuthorizationClient
        fields = [*ELEMENT_FIELDS, "provider", "client_id", *TIMESTAMPS]
        read_only_fields = TIMESTAMPS


class AuthorizationSerializer(ElementSerializer):
    client = ReferenceField(AuthorizationClient, required=False, allow_null=True)
    service = staticmethod(services.authorization_save)
    service_keys = ("namespace", "name", "kind")
    secret_fields = Authorization.SECRET_FIELDS

    class Meta:
        model = Authorization
        fields = [
            *ELEMENT_FIELDS, "kind", "username", "header_prefix", "key_name", "key_in",
            "consumer_key", "signature_method", "client", "grant_type", "scopes", "token_type",
            "expires_at", "authorized", *TIMESTAMPS,
        ]  # fmt: skip
        read_only_fields = ["token_type", "expires_at", "authorized", *TIMESTAMPS]
