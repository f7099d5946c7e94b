"""Issue 9.5: guessing is bounded. Wrong passwords at the token endpoint and random
tokens get 429 after a bound, per client address (a forged X-Forwarded-For does not
reset it); admin logins lock out after ADMIN_LOGIN_FAILURES; ensure_admin refuses a
weak ADMIN_PASSWORD; and the API's own heavy use is never throttled.
"""

from __future__ import annotations

import secrets

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

TOKEN_URL = "/api/v2/auth/token/"
FAILURES = 8  # the tests' bound; each failed password costs a real password hash


@pytest.fixture(autouse=True)
def small_bounds(monkeypatch):
    """Lower bounds than the defaults (30 failures, 60 tokens an hour): the same code,
    fewer password hashes to wait for."""
    assert set(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]) == {"auth_failure", "auth_token"}
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "auth_failure", f"{FAILURES}/hour")
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "auth_token", "12/hour")


def _statuses(responses) -> list[int]:
    return [response.status_code for response in responses]


def test_wrong_passwords_at_the_token_endpoint_get_429_after_a_bound(admin_user):
    client = APIClient()
    statuses = _statuses(
        client.post(
            TOKEN_URL,
            {"username": "admin", "password": f"guess-{n}"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n % 250}",  # forged: not trusted
        )
        for n in range(200)
    )
    assert statuses[:FAILURES] == [400] * FAILURES
    assert set(statuses[FAILURES:]) == {429}
    right = client.post(
        TOKEN_URL, {"username": "admin", "password": "admin-Passw0rd!"}, format="json"
    )
    assert right.status_code == 429 and "Retry-After" in right  # even the right one, for now
    elsewhere = APIClient(REMOTE_ADDR="192.0.2.7")  # another client is not affected
    assert elsewhere.post(
        TOKEN_URL, {"username": "admin", "password": "admin-Passw0rd!"}, format="json"
    ).status_code == 200  # fmt: skip


def test_random_tokens_get_429_after_a_bound(api, admin_user):
    guesser = APIClient()
    statuses = []
    for _ in range(200):
        guesser.credentials(HTTP_AUTHORIZATION=f"Token {secrets.token_hex(32)}")
        statuses.append(guesser.get("/api/v2/setup/namespace/").status_code)
    assert statuses[:FAILURES] == [401] * FAILURES
    assert set(statuses[FAILURES:]) == {429}
    # The same address's valid token waits too: a guess that hit would not be told apart.
    assert api.get("/api/v2/setup/namespace/").status_code == 429
    honest = APIClient(REMOTE_ADDR="192.0.2.8")
    honest.credentials(**api._credentials)
    assert honest.get("/api/v2/setup/namespace/").status_code == 200


def test_the_token_endpoint_is_bounded_even_when_every_request_succeeds(admin_user):
    limit = 12
    client = APIClient()
    body = {"username": "admin", "password": "admin-Passw0rd!"}
    statuses = _statuses(client.post(TOKEN_URL, body, format="json") for _ in range(limit + 5))
    assert statuses[:limit] == [200] * limit and set(statuses[limit:]) == {429}


def test_heavy_api_use_is_not_throttled(api, namespace):
    statuses = {api.get("/api/v2/setup/namespace/").status_code for _ in range(300)}
    assert statuses == {200}


def _login(client: Client, username: str, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def test_admin_logins_lock_out_after_repeated_failures(admin_user, make_user):
    make_user("staff", is_staff=True)
    browser = Client()
    limit = settings.AXES_FAILURE_LIMIT
    statuses = _statuses(_login(browser, "admin", f"wrong-{n}") for n in range(50))
    assert statuses[: limit - 1] == [200] * (limit - 1)  # the form again, with the error
    assert set(statuses[limit:]) == {429}
    locked = _login(browser, "admin", "admin-Passw0rd!")
    assert locked.status_code == 429 and "_auth_user_id" not in browser.session
    # Another account from the same address is not locked out by admin's failures.
    assert _login(Client(), "staff", "s3cret-Passw0rd!").status_code == 302


def test_ensure_admin_refuses_a_weak_admin_password(db, monkeypatch, django_user_model):
    monkeypatch.setenv("ADMIN_PASSWORD", "12345678")
    with pytest.raises(CommandError, match=r"ADMIN_PASSWORD is too weak: .*too common"):
        call_command("ensure_admin")
    assert not django_user_model.objects.filter(is_superuser=True).exists()
