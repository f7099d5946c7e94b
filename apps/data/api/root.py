"""``GET /api/v2/``: what the API offers, as links (the browsable API's front page)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from .. import permissions
from ..models import DataType


class APIRootView(APIView):
    """The setup endpoints by kind, the records of the data types you can see, the docs."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, *args, **kwargs):
        from config.api_urls import setup_urlpatterns

        setup = {
            pattern.name.removesuffix("-list"): request.build_absolute_uri(
                "/api/v2/" + str(pattern.pattern).strip("^$")
            )
            for pattern in setup_urlpatterns
            if pattern.name and pattern.name.endswith("-list")
        }
        visible = permissions.namespaces_for(request.user, permissions.VIEW)
        data_types = DataType.objects.filter(namespace__in=visible).select_related("namespace")
        records = {
            str(data_type): request.build_absolute_uri(
                f"/api/v2/{data_type.namespace.name}/{data_type.name}/"
            )
            for data_type in data_types[:200]
        }
        return Response(
            {
                "setup": setup,
                "records": records,
                "token": reverse("api-token", request=request),
                "schema": reverse("schema", request=request),
                "docs": reverse("swagger-ui", request=request),
            }
        )
