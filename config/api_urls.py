"""The REST API: /api/v2/… plus the OpenAPI schema and its Swagger UI.

Every app's setup routes (/api/v2/setup/<kind>/) come before the record routes
(/api/v2/<namespace>/<data_type>/), which would otherwise match them.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.collections.api.urls import setup_urlpatterns as collections_setup
from apps.connector_factory.api.urls import setup_urlpatterns as connector_factory_setup
from apps.data.api.root import APIRootView
from apps.data.api.urls import record_urlpatterns
from apps.data.api.urls import setup_urlpatterns as data_setup
from apps.gateway.api.urls import setup_urlpatterns as gateway_setup
from apps.security.api.auth import ObtainTokenView, RevokeTokenView
from apps.security.api.urls import setup_urlpatterns as security_setup
from apps.workflows.api.urls import setup_urlpatterns as workflows_setup

setup_urlpatterns = [
    *data_setup, *security_setup, *gateway_setup, *workflows_setup, *collections_setup,
    *connector_factory_setup,
]  # fmt: skip

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script from a URL: no inline script, as the CSP asks.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("v2/auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("v2/auth/logout/", RevokeTokenView.as_view(), name="api-logout"),
    path("v2/auth/logout_all/", RevokeTokenView.as_view(revoke_all=True), name="api-logout-all"),
    path("v2/", APIRootView.as_view(), name="api-root"),
    path("v2/", include(setup_urlpatterns)),
    path("v2/", include(record_urlpatterns)),
]
