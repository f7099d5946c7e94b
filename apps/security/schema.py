"""The API token scheme in the OpenAPI schema (drf-spectacular), for Swagger UI's
"Authorize": ``Authorization: Token …``."""

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme


class PlatformTokenScheme(KnoxTokenScheme):
    target_class = "apps.security.throttling.TokenAuthentication"
    name = "tokenAuth"
