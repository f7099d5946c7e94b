"""Setup endpoints of the security app, under namespace permissions."""

from __future__ import annotations

from apps.data.api.setup import NamespacedViewSet

from ..models import Authorization, AuthorizationClient, AuthorizationProvider
from .serializers import (
    AuthorizationClientSerializer,
    AuthorizationProviderSerializer,
    AuthorizationSerializer,
)


class AuthorizationProviderViewSet(NamespacedViewSet):
    serializer_class = AuthorizationProviderSerializer
    queryset = AuthorizationProvider.objects.select_related("namespace")


class AuthorizationClientViewSet(NamespacedViewSet):
    serializer_class = AuthorizationClientSerializer
    queryset = AuthorizationClient.objects.select_related("namespace", "provider__namespace")


class AuthorizationViewSet(NamespacedViewSet):
    serializer_class = AuthorizationSerializer
    queryset = Authorization.objects.select_related("namespace", "client__namespace")
