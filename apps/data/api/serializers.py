"""Serializers of namespaces, data types and records."""

from __future__ import annotations

from rest_framework import serializers

from ..models import DataType, Namespace, Record
from ..services import data_type_save
from .setup import NamespaceField, SetupSerializer


class NamespaceSerializer(SetupSerializer):
    class Meta:
        model = Namespace
        fields = ["id", "name", "title", "description", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class DataTypeSerializer(SetupSerializer):
    namespace = NamespaceField()
    schema = serializers.JSONField(help_text="A JSON Schema for the records.")
    records_url = serializers.SerializerMethodField()

    class Meta:
        model = DataType
        fields = [
            "id",
            "namespace",
            "name",
            "title",
            "schema",
            "primary_key",
            "new_key_prefix",
            "schema_version",
            "records_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "schema_version", "created_at", "updated_at"]

    def get_records_url(self, obj: DataType) -> str:
        return f"/api/v2/{obj.namespace.name}/{obj.name}/"

    def save_through_service(self, instance: DataType | None) -> DataType:
        data = {**self.validated_data}
        current = instance
        namespace = data.get("namespace", current.namespace if current else None)
        if namespace is None:  # required on create; kept on update
            raise serializers.ValidationError({"namespace": "This field is required."})
        return data_type_save(
            namespace=namespace,
            name=data.get("name", current.name if current else ""),
            schema=data.get("schema", current.schema if current else {}),
            primary_key=data.get("primary_key", current.primary_key if current else "id"),
            title=data.get("title", current.title if current else ""),
            new_key_prefix=data.get("new_key_prefix", current.new_key_prefix if current else ""),
            instance=instance,
        )

    def create(self, validated_data):
        return self.save_through_service(None)

    def update(self, instance, validated_data):
        return self.save_through_service(instance)


class RecordSerializer(serializers.ModelSerializer):
    """A record as the API shows it: its key, its data and when it was written."""

    class Meta:
        model = Record
        fields = ["key", "data", "created_at", "updated_at"]
        read_only_fields = fields
