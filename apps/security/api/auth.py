"""Signing in to the API: a token for a username and password, and revoking tokens.

``POST /api/v2/auth/token/`` with ``{"username", "password"}`` answers a new
token, once, with its expiry; ``POST /api/v2/auth/logout/`` revokes the token
sent, ``…/logout_all/`` every token of its user (:mod:`apps.security.tokens`).
"""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from ..throttling import AuthFailures, TokenAuthentication
from ..tokens import api_token_create, api_tokens_revoke

TOKEN_ANSWER = inline_serializer(
    "ApiToken",
    {
        "token": serializers.CharField(help_text="Shown once: keep it."),
        "expiry": serializers.DateTimeField(allow_null=True, help_text="Null: never."),
    },
)


class ObtainTokenView(APIView):
    """A new API token for a username and password (shown once)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth_token"
    serializer_class = AuthTokenSerializer

    @extend_schema(request=AuthTokenSerializer, responses={200: TOKEN_ANSWER})
    def post(self, request):
        failures = AuthFailures()
        failures.check(request)
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            failures.record(request)
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        user = serializer.validated_data["user"]
        instance, token = api_token_create(user=user)
        user_logged_in.send(sender=type(user), request=request, user=user)
        return Response({"token": token, "expiry": instance.expiry})


class RevokeTokenView(APIView):
    """Revoke the token of this request (``all``: every token of its user)."""

    authentication_classes = (TokenAuthentication,)
    permission_classes = (IsAuthenticated,)
    revoke_all = False

    @extend_schema(request=None, responses={204: OpenApiResponse(description="Revoked.")})
    def post(self, request):
        api_tokens_revoke(user=request.user, token=None if self.revoke_all else request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)
