"""/api/v2/setup/collection/: collections, and their export, add, remove, plan and install."""

from __future__ import annotations

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from apps.data.api.setup import ListFilters, as_drf_error

from .. import services
from ..document import CollectionError
from ..models import Collection
from ..schema import stored_schema
from ..selectors import collections_for
from . import serializers as s


@contextmanager
def service_errors():
    """The services' errors as DRF answers: 400 with paths or fields, 403 with the reason."""
    try:
        yield
    except CollectionError as error:
        if error.code == "forbidden":
            raise PermissionDenied(error.as_dict()) from None
        raise ValidationError(error.as_dict()) from None
    except DjangoValidationError as error:
        raise as_drf_error(error) from None
    except DjangoPermissionDenied as error:
        raise PermissionDenied(str(error)) from None


class CollectionViewSet(ListFilters, viewsets.ModelViewSet):
    """Collections whose namespaces you may view; ``?name=`` narrows the list.

    ``POST plan/`` and ``POST install/`` take ``{"document": …, "secrets": {…},
    "activate": false, "force": false}``; a bad document is a 400 listing every
    problem with its JSON path: ``{"errors": [{"path": "$.flows[0].translator", …}]}``.
    """

    serializer_class = s.CollectionSerializer
    queryset = Collection.objects.all()
    list_filters = {"name": "the collection's name"}

    def get_queryset(self):
        queryset = collections_for(self.request.user)
        if self.request.query_params.get("name"):
            queryset = queryset.filter(name=self.request.query_params["name"])
        return queryset

    def _save(self, serializer, instance=None):
        data = {**serializer.validated_data}
        keep = {
            key: data.get(key, getattr(instance, key) if instance else default)
            for key, default in [
                ("name", ""), ("title", ""), ("version", "1.0.0"), ("description", ""),
                ("authors", []),
            ]
        }  # fmt: skip
        with service_errors():
            serializer.instance = services.collection_save(
                **keep, instance=instance, user=self.request.user
            )

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        with service_errors():
            services.collection_delete(collection=instance, user=self.request.user)

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        """The collection's document (secrets as placeholders), as a download."""
        collection = self.get_object()
        with service_errors():
            data = services.collection_export(collection=collection, user=request.user)
        response = HttpResponse(data, content_type="application/json")
        filename = f"{collection.name}-{collection.version}.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @extend_schema(request=s.AddSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def add(self, request, pk=None):
        """Add elements; the answer says which were added and what they pulled in."""
        collection = self.get_object()
        body = s.AddSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        with service_errors():
            added = services.collection_add(
                collection=collection,
                elements=body.validated_data["elements"],
                with_records=body.validated_data["with_records"],
                user=request.user,
            )
        return Response(added.as_dict())

    @extend_schema(request=s.AddSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        """Take elements out of the collection (the elements themselves stay)."""
        collection = self.get_object()
        body = s.AddSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        with service_errors():
            removed = services.collection_remove(
                collection=collection, elements=body.validated_data["elements"], user=request.user
            )
        return Response({"removed": removed})

    def _install(self, request, service):
        body = s.InstallSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with service_errors():
            return service(**body.validated_data, user=request.user)

    @extend_schema(request=s.InstallSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"])
    def plan(self, request):
        """What installing the document would do: nothing is changed."""
        return Response(self._install(request, services.collection_plan).as_dict())

    @extend_schema(request=s.InstallSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"])
    def install(self, request):
        """Install the document in one transaction; the answer is the plan it applied."""
        installed = self._install(request, services.collection_install)
        created = installed.plan.collection_action == "create"
        return Response(
            {"collection": installed.collection.pk, "plan": installed.plan.as_dict()},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"], url_path="schema")
    def document_schema(self, request):  # not "schema": DRF views have that attribute
        """The JSON Schema of collection documents."""
        return Response(stored_schema())
