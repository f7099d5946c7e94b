"""The REST API: /api/v2/… plus the OpenAPI schema and its Swagger UI."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("v2/auth/token/", obtain_auth_token, name="api-token"),
    # Setup routes first: /api/v2/setup/... must not be read as records of namespace "setup".
    path("v2/", include("apps.data.api.urls")),
]
