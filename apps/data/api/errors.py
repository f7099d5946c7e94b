"""API clients get JSON errors, in every mode.

DRF answers its own errors in JSON, but an unexpected exception in an API view
reached Django, which showed its debug page (DEBUG on, the ``make run``
default) to any signed-in API user, and an unknown URL under ``/api/`` got an
HTML 404 page. This middleware answers both in JSON: ``{"detail": …}`` with
the status; the exception itself goes to the log, never to the client.
"""

from __future__ import annotations

import logging

from django.http import Http404, JsonResponse
from django.utils.log import log_response

logger = logging.getLogger("django.request")

API_PREFIX = "/api/"
REASONS = {404: "Not found.", 405: "Method not allowed.", 500: "Internal server error."}


def _append_slash(request) -> None:
    """``POST /api/v2/setup/namespace`` means ``…/namespace/``: serve it at that URL.

    Django's APPEND_SLASH answers such a request with a redirect, which clients follow
    with a GET that drops the body (and, with DEBUG on, with a RuntimeError: a 500).
    An API path that only exists with its trailing slash is served there instead.
    """
    path = request.path_info
    if not path.startswith(API_PREFIX) or path.endswith("/"):
        return
    from django.urls import Resolver404, get_resolver

    resolver = get_resolver(getattr(request, "urlconf", None))
    try:
        resolver.resolve(path)
        return
    except Resolver404:
        pass
    try:
        resolver.resolve(path + "/")
    except Resolver404:
        return
    request.path_info += "/"
    request.path += "/"


class APIErrorsAsJSON:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        _append_slash(request)
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code >= 400
            and response.get("Content-Type", "").startswith("text/html")
        ):
            detail = REASONS.get(response.status_code, response.reason_phrase)
            return JsonResponse({"detail": detail}, status=response.status_code)
        return response

    def process_exception(self, request, exception):
        if not request.path.startswith(API_PREFIX) or isinstance(exception, Http404):
            return None
        response = JsonResponse(
            {"detail": "Internal server error: the platform failed to answer this request; "
             "the error is in the server's log."},
            status=500,
        )  # fmt: skip
        log_response(
            "%s: %s", "Internal Server Error", request.path,
            response=response, request=request, exception=exception,
        )  # fmt: skip
        return response


def exception_handler(exc, context):
    """DRF's handler, plus: deleting an element that others still use is a 409 naming them.

    Without this a DELETE of a namespace, data type or webhook that a translator or
    flow refers to raised ProtectedError, and the user got a 500 that said nothing.
    """
    from django.db.models.deletion import ProtectedError, RestrictedError
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, ProtectedError | RestrictedError):
        from ..usage import describe

        users = sorted({describe(instance) for instance in exc.args[1]})
        shown = ", ".join(users[:10]) + (f" and {len(users) - 10} more" if len(users) > 10 else "")
        return JsonResponse(
            {"detail": f"This cannot be deleted while other elements use it: {shown}. "
             "Delete or change those first.", "used_by": users[:100]},
            status=409,
        )  # fmt: skip
    from rest_framework.exceptions import UnsupportedMediaType

    if isinstance(exc, UnsupportedMediaType):
        exc.detail = f"{exc.detail} Send JSON, with the header Content-Type: application/json."
    return drf_exception_handler(exc, context)
