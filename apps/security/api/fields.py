"""Serializer fields of the security API."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.data.api.fields import ReferenceField

__all__ = ["IsSetField", "ReferenceField"]


@extend_schema_field(OpenApiTypes.BOOL)
class IsSetField(serializers.Field):
    """Whether a write-only secret holds a value (the value itself is never shown)."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value) -> bool:
        return bool(value)
