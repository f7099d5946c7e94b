"""``manage.py fetch_webhook``: JSON lines on stdout, a summary on stderr, exit codes."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command


def run(*args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) as manage.py gives them: it prints a CommandError as
    one "CommandError: …" line and exits with its returncode. (Not run_from_argv
    itself: it closes the test's database connection.)"""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("fetch_webhook", *args, stdout=out, stderr=err)
    except CommandError as error:
        err.write(f"CommandError: {error}\n")
        return error.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def paged(make_webhook):
    return make_webhook(
        name="pages", path="pages", records_path="data", pagination={"type": "page_number"}
    )


def test_prints_records_and_a_summary(paged, remote):
    code, out, err = run("crm.pages", "--all-pages")
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == list(range(1, 24))
    assert err.startswith("pages=6 records=23 retries=0 seconds=")


def test_first_page_parameters_and_values(make_webhook, remote, connection):
    make_webhook(name="one", path="echo/{{remote_id}}")
    code, out, _ = run("crm.one", "--connection", "crm.remote", "--param", "a=1",
                       "--value", "remote_id=42")  # fmt: skip
    assert code == 0
    assert json.loads(out)["path"] == "/echo/42?a=1"


def test_failure_exits_non_zero_with_one_line(paged, remote):
    remote.fault("/pages", *[{"status": 503, "body": "busy\nnow"}] * 3)
    code, out, err = run("crm.pages")
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert f"{remote.url}/pages?page=1" in lines[0] and "HTTP 503" in lines[0]


def test_bad_input(paged, remote):
    assert run("nodot")[0] == 1
    code, _, err = run("crm.missing")
    assert code == 1 and "There is no webhook crm.missing" in err
    with pytest.raises(CommandError, match="key=value"):
        call_command("fetch_webhook", "crm.pages", "--param", "oops")
    assert remote.hits == []


def test_request_logs_are_pruned_daily_by_beat(settings, namespace):
    from datetime import timedelta

    from django.utils import timezone

    from apps.gateway.models import RequestLog
    from apps.gateway.tasks import prune_request_logs

    entry = settings.CELERY_BEAT_SCHEDULE["prune-request-logs"]
    assert entry["task"] == prune_request_logs.name
    settings.REQUEST_LOG_RETENTION_DAYS = 30
    old, _new = (
        RequestLog.objects.create(namespace=namespace, method="GET", url=f"http://x/{n}", attempt=1)
        for n in ("old", "new")
    )
    RequestLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    assert prune_request_logs.run() == 1
    assert list(RequestLog.objects.values_list("url", flat=True)) == ["http://x/new"]
