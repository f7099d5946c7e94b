"""/api/v2/connector_factory/: connectors made from a spec, and the spec's JSON Schema.

``POST connector/`` takes a spec (DESIGN §7) and generates the connector;
``PUT connector/<name>/`` regenerates it from a changed spec (secret fields
left empty keep the stored secrets); ``DELETE connector/<name>/`` removes its
elements (``?drop_records=1`` its records too). A bad spec is a 400 listing
every problem by path: ``{"errors": ["resources[0].import.get_many is required…"]}``.
Answers never hold a secret.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ..generator import connector_generate
from ..models import Connector
from ..selectors import connectors_for
from ..services import connector_delete, connector_elements, connector_spec_for_edit
from ..spec import SPEC_SCHEMA, SpecError


@contextmanager
def service_errors():
    try:
        yield
    except SpecError as error:
        raise ValidationError({"errors": error.problems}) from None
    except DjangoPermissionDenied as error:
        raise PermissionDenied(str(error)) from None


def connector_data(connector: Connector) -> dict:
    from apps.collections.kinds import kind_of

    return {
        "id": connector.pk,
        "name": connector.name,
        "collection": connector.collection.name if connector.collection else None,
        "spec": connector_spec_for_edit(connector),
        "elements": [
            {"kind": kind_of(element).name, "name": element.name}  # type: ignore[attr-defined]
            for element in connector_elements(connector)
        ],
        "created_at": connector.created_at,
        "updated_at": connector.updated_at,
    }


class ConnectorViewSet(viewsets.ViewSet):
    """Connectors whose namespace you may view."""

    lookup_field = "name"
    lookup_value_regex = r"[A-Za-z_][A-Za-z0-9_\-]*"

    def _get(self, name: str) -> Connector:
        return get_object_or_404(connectors_for(self.request.user), namespace__name=name)

    @extend_schema(operation_id="connector_factory_connector_list", responses=OpenApiTypes.OBJECT)
    def list(self, request):
        return Response([connector_data(c) for c in connectors_for(request.user)])

    @extend_schema(
        operation_id="connector_factory_connector_retrieve", responses=OpenApiTypes.OBJECT
    )
    def retrieve(self, request, name=None):
        return Response(connector_data(self._get(name)))

    def _generate(self, request, *, status_code: int) -> Response:
        if not isinstance(request.data, dict):
            raise ValidationError({"errors": ["spec must be a JSON object"]})
        drop = str(request.query_params.get("drop_records", "")).lower() in {"1", "true", "yes"}
        with service_errors():
            result = connector_generate(spec=dict(request.data), actor=request.user,
                                        drop_records=drop)  # fmt: skip
        return Response(
            {**result.as_dict(), "connector": connector_data(result.connector)}, status=status_code
        )

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def create(self, request):
        name = request.data.get("name") if isinstance(request.data, dict) else None
        exists = isinstance(name, str) and Connector.objects.filter(namespace__name=name).exists()
        if exists:
            raise ValidationError(
                {"errors": [f"name: connector {name!r} exists; PUT connector/{name}/ changes it"]}
            )
        return self._generate(request, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def update(self, request, name=None):
        self._get(name)
        if isinstance(request.data, dict) and request.data.get("name", name) != name:
            raise ValidationError(
                {"errors": [f"name: a connector is not renamed (it is {name!r})"]}
            )
        return self._generate(request, status_code=status.HTTP_200_OK)

    @extend_schema(responses={204: None})
    def destroy(self, request, name=None):
        connector = self._get(name)
        drop = str(request.query_params.get("drop_records", "")).lower() in {"1", "true", "yes"}
        with service_errors():
            connector_delete(connector=connector, actor=request.user, drop_records=drop)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SpecSchemaView(APIView):
    """The JSON Schema of a connector spec."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(SPEC_SCHEMA)
