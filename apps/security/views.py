"""The OAuth 2.0 authorization-code flow in the browser.

The admin's "Authorize" button calls :func:`start_authorization`, which sends
the user to the provider with a random ``state`` remembered in their session;
the provider sends them back to :func:`oauth_callback` with a code, which is
exchanged for tokens once the state matches.
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from apps.data import permissions

from . import services
from .models import Authorization

SESSION_KEY = "security.oauth_states"
MAX_PENDING = 10  # authorizations started in one session and not yet finished


def admin_change_url(authorization: Authorization) -> str:
    return reverse("admin:security_authorization_change", args=[authorization.pk])


def start_authorization(request: HttpRequest, authorization: Authorization) -> HttpResponse:
    """Redirect to the provider's authorize URL, remembering a fresh state."""
    redirect_uri = request.build_absolute_uri(reverse("security:oauth-callback"))
    state = secrets.token_urlsafe(32)
    pending = request.session.get(SESSION_KEY, {})
    pending[state] = {"authorization": authorization.pk, "redirect_uri": redirect_uri}
    request.session[SESSION_KEY] = dict(list(pending.items())[-MAX_PENDING:])
    url = services.authorization_authorize_url(
        authorization=authorization, redirect_uri=redirect_uri, state=state
    )
    return redirect(url)


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    from django.contrib import admin

    # The admin's header and navigation, not Django's default "Django administration".
    context = {**admin.site.each_context(request), "title": "Authorization failed",
               "message": message}  # fmt: skip
    return render(request, "security/oauth_error.html", context, status=400)


@require_GET
@staff_member_required
def oauth_callback(request: HttpRequest) -> HttpResponse:
    """Where the provider sends the user back: check the state, exchange the code."""
    state = request.GET.get("state", "")
    pending = request.session.get(SESSION_KEY, {})
    started = pending.pop(state, None) if state else None
    request.session[SESSION_KEY] = pending  # a state is good for one use only
    if started is None:
        return _bad_request(
            request,
            "The state sent back by the provider does not match an authorization started "
            "in this browser session. Start again with the Authorize button.",
        )
    authorization = (
        Authorization.objects.select_related("namespace", "client__provider")
        .filter(pk=started["authorization"])
        .first()
    )
    if authorization is None:
        return _bad_request(request, "The authorization was deleted meanwhile.")
    if not permissions.can_change(request.user, authorization.namespace):
        raise PermissionDenied
    back = redirect(admin_change_url(authorization))
    if request.GET.get("error"):
        reason = request.GET.get("error_description") or request.GET["error"]
        messages.error(request, f"The provider did not authorize {authorization}: {reason}")
        return back
    code = request.GET.get("code")
    if not code:
        return _bad_request(request, "The provider sent back no authorization code.")
    try:
        services.authorization_code_exchange(
            authorization=authorization, code=code, redirect_uri=started["redirect_uri"]
        )
    except services.AuthorizationError as error:
        messages.error(request, str(error))
        return back
    messages.success(request, f"Authorization {authorization} is authorized.")
    return back
