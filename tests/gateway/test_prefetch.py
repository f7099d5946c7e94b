"""Reading pages ahead (apps.gateway.prefetch): order, errors, stopping, the request log."""

from __future__ import annotations

import threading
import time

import pytest

from apps.gateway import prefetch
from apps.gateway.client import GatewayError, webhook_fetch
from apps.gateway.models import RequestLog
from apps.gateway.prefetch import Prefetch, prefetching

PAGED = {"type": "page_number", "size_param": "per_page", "size": 5, "has_more_path": "info.more"}


def prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("prefetch-")]


def wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def paged(make_webhook):
    return make_webhook(path="pages", records_path="data", pagination=PAGED)


@pytest.fixture(autouse=True)
def slow_api(monkeypatch):
    """Every page counts as slow: the reading ahead starts after the second one."""
    monkeypatch.setattr(prefetch, "SLOW_PAGE_SECONDS", 0)


def test_pages_that_come_at_once_are_read_one_after_the_other(monkeypatch, paged, remote):
    monkeypatch.setattr(prefetch, "SLOW_PAGE_SECONDS", 60)
    with prefetching(webhook_fetch(webhook=paged)) as pages:
        next(pages), next(pages)
        time.sleep(0.2)
        assert len(remote.paths("/pages")) == 2 and not pages.reading_ahead
        assert len(list(pages)) == 3
    assert prefetch_threads() == []
    assert RequestLog.objects.filter(webhook=paged).count() == 5


def test_the_next_page_is_requested_while_the_caller_holds_this_one(paged, remote):
    with prefetching(webhook_fetch(webhook=paged)) as pages:
        assert isinstance(pages, Prefetch)
        first, second = next(pages), next(pages)  # read to judge the API's pace
        assert [r["id"] for r in first.records] == [1, 2, 3, 4, 5] and pages.reading_ahead
        # The caller is still "storing" page 2: page 3 is asked for all the same.
        assert wait_for(lambda: "/pages?page=3&per_page=5" in remote.paths("/pages"))
        rest = list(pages)
    assert [r["id"] for page in [first, second, *rest] for r in page.records] == list(range(1, 24))
    assert [page.number for page in rest] == [3, 4, 5]
    assert prefetch_threads() == []
    # Every request logged, by the caller's own connection (this test's transaction sees them).
    assert RequestLog.objects.filter(webhook=paged).count() == 5


def test_an_error_comes_after_the_pages_before_it_and_leaves_no_thread(paged, remote):
    remote.fault("/pages", {}, {}, {"status": 404})  # page 3 is refused (not retried)
    seen = []
    with pytest.raises(GatewayError) as error, prefetching(webhook_fetch(webhook=paged)) as pages:
        for page in pages:
            seen.append(page.number)
    assert seen == [1, 2]
    assert "answered HTTP 404" in str(error.value) and "page=3" in str(error.value)
    assert prefetch_threads() == []
    logs = RequestLog.objects.filter(webhook=paged).order_by("pk")
    assert [log.status for log in logs] == [200, 200, 404]


def test_a_caller_that_fails_stops_the_reading_ahead(paged, remote):
    fetch = webhook_fetch(webhook=paged)
    with pytest.raises(RuntimeError, match="storing failed"), prefetching(fetch) as pages:
        for page in pages:
            if page.number == 2:
                assert wait_for(lambda: len(remote.paths("/pages")) >= 3)
                raise RuntimeError("storing failed")
    assert prefetch_threads() == []
    requested = len(remote.paths("/pages"))
    time.sleep(0.3)
    assert len(remote.paths("/pages")) == requested <= 4  # at most two pages ahead, then none
    assert RequestLog.objects.filter(webhook=paged).count() == requested


def test_a_retried_page_is_logged_as_the_fetch_goes_on(paged, remote):
    remote.fault("/pages", {"status": 503})
    with prefetching(webhook_fetch(webhook=paged)) as pages:
        next(pages)
        # The failed attempt is readable before the fetch ends.
        logs = RequestLog.objects.filter(webhook=paged).order_by("pk")
        assert list(logs.values_list("status", flat=True)) == [503, 200]
        assert len(list(pages)) == 4
    assert RequestLog.objects.filter(webhook=paged).count() == 6


def test_oauth2_pages_are_read_one_after_the_other(paged, remote, make_authorization):
    from apps.security.models import AuthorizationClient, AuthorizationProvider

    provider = AuthorizationProvider.objects.create(
        namespace=paged.namespace, name="p", authorize_url=f"{remote.url}/auth",
        token_url=f"{remote.url}/token",
    )  # fmt: skip
    client = AuthorizationClient.objects.create(
        namespace=paged.namespace, name="c", provider=provider, client_id="id",
        client_secret="secret",
    )  # fmt: skip
    authorization = make_authorization("oauth2", client=client, grant_type="client_credentials")
    remote.require = ("bearer", "none yet")
    with prefetching(webhook_fetch(webhook=paged, authorization=authorization)) as pages:
        assert not isinstance(pages, Prefetch)
        next(pages)
        time.sleep(0.2)
        assert len(remote.paths("/pages")) == 1  # nothing read ahead
        assert len(list(pages)) == 4
    assert prefetch_threads() == []
