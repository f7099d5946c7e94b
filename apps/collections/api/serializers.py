"""Serializers of collections: their fields, what they hold, and the bodies of their actions."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.data import permissions

from ..kinds import BY_NAME, KINDS
from ..models import Collection
from ..selectors import Member, collection_contents


class ElementSerializer(serializers.Serializer):
    """An element, as ``{"kind": "flow", "namespace": "crm", "name": "import_contacts"}``."""

    kind = serializers.ChoiceField(choices=[kind.name for kind in KINDS])
    namespace = serializers.CharField()
    name = serializers.CharField()

    def validate(self, attrs):
        request = self.context.get("request")
        visible = permissions.namespaces_for(request.user if request else None, permissions.VIEW)
        kind = BY_NAME[attrs["kind"]]
        element = kind.objects.filter(
            namespace__in=visible, namespace__name=attrs["namespace"], name=attrs["name"]
        ).first()
        if element is None:
            raise serializers.ValidationError(
                f"There is no {kind.label} {attrs['namespace']}.{attrs['name']} that you can see."
            )
        return element


class MemberSerializer(serializers.Serializer):
    kind = serializers.CharField(source="kind.name")
    namespace = serializers.CharField(source="element.namespace.name")
    name = serializers.CharField(source="element.name")
    chosen = serializers.BooleanField(help_text="Added on purpose (else pulled in).")
    pulled_in = serializers.SerializerMethodField(help_text="Pulled in because others need it.")
    needed_by = serializers.ListField(child=serializers.CharField(), help_text="Who needs it.")
    with_records = serializers.BooleanField(help_text="Data types: its records travel too.")

    def get_pulled_in(self, member: Member) -> bool:
        return not member.chosen


class CollectionSerializer(serializers.ModelSerializer):
    authors = serializers.ListField(child=serializers.CharField(), required=False)
    elements = serializers.SerializerMethodField(
        help_text="Every element it holds: chosen ones and those pulled in."
    )
    namespaces = serializers.SerializerMethodField(help_text="The namespaces of its elements.")

    class Meta:
        model = Collection
        fields = [
            "id", "name", "title", "version", "description", "authors", "namespaces",
            "elements", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]

    def _contents(self, collection: Collection) -> list[Member]:
        cache = self.context.setdefault("contents", {})
        if collection.pk not in cache:
            cache[collection.pk] = collection_contents(collection)
        return cache[collection.pk]

    def get_elements(self, collection: Collection) -> Any:
        return MemberSerializer(self._contents(collection), many=True).data

    def get_namespaces(self, collection: Collection) -> list[str]:
        return sorted({m.reference.split(".")[0] for m in self._contents(collection)})


class AddSerializer(serializers.Serializer):
    elements = ElementSerializer(many=True, required=False, default=list)
    with_records = ElementSerializer(
        many=True, required=False, default=list, help_text="Data types whose records travel too."
    )

    def validate_with_records(self, value):
        if any(BY_NAME["data_type"].model is not type(element) for element in value):
            raise serializers.ValidationError("Only data types have records.")
        return value


class InstallSerializer(serializers.Serializer):
    document = serializers.JSONField(help_text="A collection document (see …/schema/).")
    secrets = serializers.DictField(
        required=False, default=dict, help_text="Placeholder name → value."
    )
    activate = serializers.BooleanField(
        required=False, default=False, help_text="Let its schedulers and observers start."
    )
    force = serializers.BooleanField(
        required=False, default=False, help_text="Install even an older version."
    )
