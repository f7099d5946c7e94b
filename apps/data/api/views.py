"""Setup endpoints of the data app: namespaces and data types."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied

from .. import permissions, services
from ..models import DataType, Namespace
from .serializers import DataTypeSerializer, NamespaceSerializer
from .setup import ListFilters, NamespacedViewSet, as_drf_error


class NamespaceViewSet(ListFilters, viewsets.ModelViewSet):
    """Namespaces the user may see. Creating one needs the global 'add namespace'
    permission; its creator may then see and change it."""

    serializer_class = NamespaceSerializer
    queryset = Namespace.objects.all()
    list_filters = {"name": "the namespace's name"}

    def get_queryset(self):
        queryset = permissions.namespaces_for(self.request.user, permissions.VIEW)
        if self.request.query_params.get("name"):
            queryset = queryset.filter(name=self.request.query_params["name"])
        return queryset

    def perform_create(self, serializer):
        if not self.request.user.has_perm("data.add_namespace"):
            raise PermissionDenied("You may not create namespaces.")
        try:
            namespace = serializer.save()
        except DjangoValidationError as error:
            raise as_drf_error(error) from None
        permissions.grant(self.request.user, namespace, change=True)

    def perform_update(self, serializer):
        if not permissions.can_change(self.request.user, serializer.instance):
            raise PermissionDenied(f"You may not change namespace '{serializer.instance.name}'.")
        serializer.save()

    def perform_destroy(self, instance):
        if not permissions.can_change(self.request.user, instance):
            raise PermissionDenied(f"You may not delete namespace '{instance.name}'.")
        instance.delete()


class DataTypeViewSet(NamespacedViewSet):
    serializer_class = DataTypeSerializer
    queryset = DataType.objects.select_related("namespace")

    def update(self, request, *args, **kwargs):
        """A changed schema answers, under ``warnings``, how many stored records no longer
        fit it (they are kept as they are)."""
        before = self.get_object().schema_version
        response = super().update(request, *args, **kwargs)
        data_type = DataType.objects.get(pk=response.data["id"])
        if data_type.schema_version != before:
            warning = services.schema_change_warning(data_type)
            if warning:
                response.data["warnings"] = [warning]
        return response
