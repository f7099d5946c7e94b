"""Fixtures shared by every test: users, API clients, a namespace.

Tests run against a real database: SQLite (a file under DATA_DIR, so that
worker processes started by tests see it) by default, or DATABASE_URL.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.data import permissions
from apps.data.models import Namespace
from apps.security.tokens import api_token_create


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle counts (per client address, in the cache) do not carry over between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def namespace(db) -> Namespace:
    return Namespace.objects.create(name="crm", title="CRM")


@pytest.fixture
def make_user(db, django_user_model):
    def make(username: str = "alice", **extra):
        return django_user_model.objects.create_user(
            username=username, password="s3cret-Passw0rd!", **extra
        )

    return make


@pytest.fixture
def admin_user(db, django_user_model):
    return django_user_model.objects.create_superuser(
        username="admin", password="admin-Passw0rd!", email="admin@example.com"
    )


@pytest.fixture
def api(admin_user) -> APIClient:
    """An API client authenticated as a superuser with an API token."""
    client = APIClient()
    _, token = api_token_create(user=admin_user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def api_as(db):
    """api_as(user) -> an APIClient authenticated with that user's token."""

    def make(user) -> APIClient:
        client = APIClient()
        _, token = api_token_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    return make


@pytest.fixture
def queries_and_token_reads(monkeypatch):
    """``with queries_and_token_reads() as (queries, reads):`` Django's queries other
    than the definitions token's, and the token reads (on PostgreSQL the token is read
    around Django's cursor, apps.data.upsert.fast_cursor, which query capture misses)."""
    from contextlib import contextmanager

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.data import definitions

    @contextmanager
    def capture():
        reads: list = []
        read = definitions._read_token
        monkeypatch.setattr(definitions, "_read_token", lambda: reads.append(read()) or reads[-1])
        others: list[str] = []
        with CaptureQueriesContext(connection) as captured:
            yield others, reads
        others += [q["sql"] for q in captured if "data_definitions" not in q["sql"]]
        monkeypatch.setattr(definitions, "_read_token", read)

    return capture


@pytest.fixture
def grant():
    """grant(user, namespace, change=False): namespace object permissions."""
    return permissions.grant


def pytest_configure(config):
    # The suite's instance (DATA_DIR): folders and keys, as `manage.py migrate` makes them,
    # so that the worker processes tests start use the same keys.
    from config import instance

    instance.create()


# --- A skipped test is a failed run --------------------------------------------------------

_skipped: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if _skipped and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if _skipped:
        terminalreporter.write_line(
            f"FAILED: {len(_skipped)} test(s) skipped; a skip is not a pass: "
            + ", ".join(_skipped[:5]),
            red=True,
        )


@pytest.fixture(scope="session")
def _session_worker(django_db_setup, django_db_blocker):
    from tests.workers import SESSION_QUEUE, start_worker, stop_worker

    with django_db_blocker.unblock():
        # its own enqueues (follow-on flows, run_again) stay on its queue too
        process = start_worker(queue=SESSION_QUEUE, env={"CELERY_QUEUE": SESSION_QUEUE})
    yield process
    stop_worker(process)


@pytest.fixture
def celery_worker_process(_session_worker):
    """A real Celery worker process (one for the session, on the test database); the
    test's tasks go to it while the test runs, and to no worker in other tests."""
    from tests.workers import SESSION_QUEUE, tasks_routed_to

    with tasks_routed_to(SESSION_QUEUE):
        yield _session_worker
