"""Every pagination type reads every page once, in order, and every record exactly once."""

from __future__ import annotations

import pytest

from apps.gateway.client import GatewayError, webhook_fetch

ALL_IDS = list(range(1, 24))  # the remote API serves 23 records, 5 per page

CASES = {
    "none": ("items", "", {}, ["/items"]),
    "page_number has_more": (
        "pages", "data",
        {"type": "page_number", "size_param": "per_page", "size": 5, "has_more_path": "info.more"},
        [f"/pages?page={n}&per_page=5" for n in range(1, 6)],
    ),
    "page_number total_pages": (
        "pages", "data", {"type": "page_number", "total_pages_path": "info.total_pages"},
        [f"/pages?page={n}" for n in range(1, 6)],
    ),
    "page_number short page": (
        "pages", "data", {"type": "page_number", "size": 5},
        [f"/pages?page={n}" for n in range(1, 6)],
    ),
    "page_number empty page": (
        "pages", "data", {"type": "page_number", "start_page": 1},
        [f"/pages?page={n}" for n in range(1, 7)],
    ),
    "offset total": (
        "offset", "items", {"type": "offset", "limit": 5, "total_path": "total"},
        [f"/offset?offset={n}&limit=5" for n in range(0, 25, 5)],
    ),
    "offset short page": (
        "offset", "", {"type": "offset", "limit": 5},
        [f"/offset?offset={n}&limit=5" for n in range(0, 25, 5)],
    ),
    "cursor next_cursor_path": (
        "cursor", "data",
        {"type": "cursor", "next_cursor_path": "next", "has_more_path": "has_more"},
        ["/cursor"] + [f"/cursor?cursor=c-{n}" for n in range(5, 25, 5)],
    ),
    "cursor cursor_field": (
        "cursor", "data", {"type": "cursor", "cursor_field": "id"},
        ["/cursor"] + [f"/cursor?cursor={n}" for n in (5, 10, 15, 20, 23)],
    ),
    "link_header": (
        "link", "", {"type": "link_header"}, ["/link"] + [f"/link?page={n}" for n in range(2, 6)]
    ),
    "next_url": (
        "next", "results", {"type": "next_url", "next_url_path": "next"},
        ["/next"] + [f"/next?page={n}" for n in range(2, 6)],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_every_page_once_in_order(case, make_webhook, remote):
    path, records_path, pagination, expected_hits = CASES[case]
    webhook = make_webhook(path=path, records_path=records_path, pagination=pagination)

    fetch = webhook_fetch(webhook=webhook)
    pages = list(fetch)

    assert [record["id"] for page in pages for record in page.records] == ALL_IDS
    assert [page.number for page in pages] == list(range(1, len(pages) + 1))
    assert remote.paths() == expected_hits
    assert fetch.stats.pages == len(expected_hits)
    assert fetch.stats.records == 23
    assert fetch.stats.retries == 0


def test_pages_are_fetched_lazily(make_webhook, remote):
    webhook = make_webhook(path="link", pagination={"type": "link_header"})
    fetch = webhook_fetch(webhook=webhook)
    first = next(fetch)
    assert first.records[0]["id"] == 1
    assert len(remote.hits) == 1  # the second page is asked for only when wanted
    fetch.close()
    assert len(remote.hits) == 1


def test_first_page_only(make_webhook, remote):
    webhook = make_webhook(path="offset", pagination={"type": "offset", "limit": 5})
    pages = list(webhook_fetch(webhook=webhook, all_pages=False))
    assert len(pages) == 1 and len(pages[0].records) == 5
    assert len(remote.hits) == 1


def test_max_pages_stops_quietly(make_webhook, remote):
    webhook = make_webhook(path="pages", pagination={"type": "page_number", "max_pages": 2})
    fetch = webhook_fetch(webhook=webhook)
    assert sum(len(page.records) for page in fetch) == 10
    assert fetch.stats.pages == 2


@pytest.mark.parametrize(
    ("pagination", "hits"),
    [
        ({"type": "next_url", "next_url_path": "next"}, ["/loop", "/loop?again=1"]),
        ({"type": "cursor", "next_cursor_path": "cursor"}, ["/loop", "/loop?cursor=same"]),
    ],
)
def test_a_repeated_url_or_cursor_stops_with_an_error(pagination, hits, make_webhook, remote):
    webhook = make_webhook(path="loop", pagination=pagination)
    with pytest.raises(GatewayError) as caught:
        list(webhook_fetch(webhook=webhook))
    assert caught.value.code == "pagination_loop"
    assert "asks again for a page it has read" in str(caught.value)
    assert remote.paths() == hits


def test_records_path_default_is_the_first_list(make_webhook, remote):
    webhook = make_webhook(path="offset", pagination={"type": "offset", "limit": 50})
    (page,) = webhook_fetch(webhook=webhook)
    assert [record["id"] for record in page.records] == ALL_IDS


def test_an_object_without_list_is_one_record_when_unpaginated(make_webhook, remote):
    webhook = make_webhook(path="echo/one")
    (page,) = webhook_fetch(webhook=webhook)
    assert page.records[0]["path"] == "/echo/one"
