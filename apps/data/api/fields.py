"""Referring to other elements in the API's JSON: ``{"namespace": "crm", "name": "x"}``."""

from __future__ import annotations

import json

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.data import permissions

REFERENCE_SCHEMA = {
    "type": "object",
    "properties": {"namespace": {"type": "string"}, "name": {"type": "string"}},
    "required": ["namespace", "name"],
}


@extend_schema_field(REFERENCE_SCHEMA)
class ReferenceField(serializers.RelatedField):
    """Another setup element, by namespace and name.

    Only elements of namespaces the requesting user may view can be referred to;
    any other is reported as not existing (its existence is not disclosed).
    """

    default_error_messages = {
        # Braces doubled: DRF formats these messages with str.format.
        "invalid": 'Expected an object {{"namespace": "…", "name": "…"}}, not {given}.',
        "does_not_exist": "There is no {model} {namespace}.{name} that you can see.",
    }

    def __init__(self, model, **kwargs):
        self.model = model
        kwargs.setdefault("queryset", model._default_manager.select_related("namespace"))
        kwargs.setdefault(
            "help_text",
            f'A {model._meta.verbose_name} given as {{"namespace": "…", "name": "…"}}.',
        )
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        visible = permissions.namespaces_for(request.user if request else None, permissions.VIEW)
        return super().get_queryset().filter(namespace__in=visible)

    def to_representation(self, value):
        return {"namespace": value.namespace.name, "name": value.name}

    def to_internal_value(self, data):
        if not isinstance(data, dict) or not all(
            isinstance(data.get(key), str) for key in ("namespace", "name")
        ):
            self.fail("invalid", given=json.dumps(data)[:100])
        try:
            return self.get_queryset().get(namespace__name=data["namespace"], name=data["name"])
        except ObjectDoesNotExist:
            self.fail(
                "does_not_exist",
                model=self.model._meta.verbose_name,
                namespace=data["namespace"],
                name=data["name"],
            )

    def display_value(self, instance):
        return str(instance)
