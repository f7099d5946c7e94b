"""The REST API: /api/v2/… plus the OpenAPI schema and its Swagger UI.

Every app's setup routes (/api/v2/setup/<kind>/) come before the record routes
(/api/v2/<namespace>/<data_type>/), which would otherwise match them.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, MultiPartParser

from apps.collections.api.urls import setup_urlpatterns as collections_setup
from apps.data.api.parsers import JSONParser
from apps.data.api.root import APIRootView
from apps.data.api.urls import record_urlpatterns
from apps.data.api.urls import setup_urlpatterns as data_setup
from apps.gateway.api.urls import setup_urlpatterns as gateway_setup
from apps.security.api.urls import setup_urlpatterns as security_setup
from apps.workflows.api.urls import setup_urlpatterns as workflows_setup

# DRF's token view names its own parsers: the API's bounded JSON parser, as everywhere.
obtain_auth_token = ObtainAuthToken.as_view(
    parser_classes=[JSONParser, FormParser, MultiPartParser]
)

setup_urlpatterns = [
    *data_setup, *security_setup, *gateway_setup, *workflows_setup, *collections_setup,
]  # fmt: skip

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("v2/auth/token/", obtain_auth_token, name="api-token"),
    path("v2/", APIRootView.as_view(), name="api-root"),
    path("v2/", include(setup_urlpatterns)),
    path("v2/", include(record_urlpatterns)),
]
