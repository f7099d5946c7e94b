"""Validation of gateway elements, and pruning the request log."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from apps.gateway.models import RequestLog
from apps.gateway.pagination import pagination_check
from apps.gateway.services import connection_save, request_logs_prune, webhook_save


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([], "must be a JSON object"),
        ({"type": "pages"}, "'type' must be one of none, page_number, offset"),
        ({"type": "offset", "page_param": "p"}, "'page_param' is not an option of type 'offset'"),
        ({"type": "page_number", "size": 0}, "'size' must be an integer from 1 to 1000000, not 0"),
        ({"type": "page_number", "size": True}, "'size' must be an integer from 1 to"),
        ({"type": "page_number", "size_param": "per_page"}, "'size_param' needs 'size'"),
        ({"type": "page_number", "has_more_path": "info.["}, "not a valid JMESPath"),
        ({"type": "cursor"}, "needs 'next_cursor_path' or 'cursor_field'"),
        ({"type": "next_url"}, "needs 'next_url_path'"),
        ({"type": "link_header", "max_pages": "3"}, "'max_pages' must be an integer from 1 to"),
    ],
)
def test_pagination_problems_are_named(spec, message):
    problems = pagination_check(spec)
    assert any(message in problem for problem in problems), problems


def test_one_message_per_wrong_option():
    problems = pagination_check({"type": "offset", "limit": -1, "total_path": "", "x": 1})
    assert len(problems) == 3


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"type": "none"},
        {"type": "page_number", "page_param": "p", "size_param": "n", "size": 200,
         "start_page": 0, "has_more_path": "info.more_records"},
        {"type": "offset", "limit": 50, "total_path": "meta.total", "max_pages": 10},
        {"type": "cursor", "cursor_param": "after", "cursor_field": "id"},
        {"type": "link_header"},
        {"type": "next_url", "next_url_path": "links.next"},
    ],
)  # fmt: skip
def test_valid_pagination(spec):
    assert pagination_check(spec) == []


def test_elements_are_validated_on_save(namespace):
    with pytest.raises(ValidationError) as caught:
        connection_save(namespace=namespace, name="c", base_url="file:///etc/passwd")
    assert "base_url" in caught.value.message_dict
    connection = connection_save(namespace=namespace, name="c", base_url="https://api.example.com")
    with pytest.raises(ValidationError) as caught:
        webhook_save(
            namespace=namespace, name="w", path="/contacts/", records_path="data[",
            pagination={"type": "cursor"}, connection=connection,
        )  # fmt: skip
    assert set(caught.value.message_dict) == {"path", "records_path", "pagination"}
    with pytest.raises(ValidationError):
        connection_save(namespace=namespace, name="c", base_url="https://other.example.com")


def test_prune_request_logs(namespace, settings):
    now = timezone.now()
    for age in (1, 10, 40):
        RequestLog.objects.create(
            namespace=namespace, method="GET", url="https://x", created_at=now - timedelta(days=age)
        )
    settings.REQUEST_LOG_RETENTION_DAYS = 30
    assert request_logs_prune() == 1
    out = io.StringIO()
    call_command("prune_request_logs", "--days", "5", stdout=out)
    assert "Deleted 1 request log row(s) older than 5 day(s)." in out.getvalue()
    assert RequestLog.objects.count() == 1
