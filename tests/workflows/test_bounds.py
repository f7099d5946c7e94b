"""Numbers users type are bounded: 400s and form errors, never a 500; beat survives bad rows."""

import time

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.workflows.models import Algorithm, Event, Flow, Notification, Scheduler
from tests.workers import start_beat, stop_worker, wait_for, worker_log

HUGE = "every 99999999999999999999d"


@pytest.fixture
def signed_in(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize(
    "expression", [HUGE, "every 1000000000000000d", "every 367d", "every 99999999h"]
)
def test_huge_intervals_are_400_and_form_errors(api, signed_in, namespace, expression):
    response = api.post(
        "/api/v2/setup/scheduler/",
        {"namespace": "crm", "name": "s", "expression": expression},
        format="json",
    )
    assert response.status_code == 400 and "a year at most" in str(response.json())
    page = signed_in.post(
        "/admin/workflows/scheduler/add/",
        {"namespace": namespace.pk, "name": "s", "expression": expression},
    )
    assert page.status_code == 200 and "a year at most" in page.content.decode()
    assert not Event.objects.exists() and not PeriodicTask.objects.filter(
        name__startswith="scheduler"
    )
    ok = api.post(
        "/api/v2/setup/scheduler/",
        {"namespace": "crm", "name": "s", "expression": "every 366d"},
        format="json",
    )
    assert ok.status_code == 201


def test_cron_messages_say_what_is_wrong(api, namespace):
    def error(expression):
        body = {"namespace": "crm", "name": "s", "expression": expression}
        return str(api.post("/api/v2/setup/scheduler/", body, format="json").json())

    assert "'a' is not a cron field" in error("cron a b c d e")
    assert "needs 5 fields" in error("cron * *") and "not 2" in error("cron * *")


@pytest.mark.parametrize("limit", [0, -1, -5, 99999, 301])
def test_time_limits_are_bounded(api, signed_in, namespace, limit):
    body = {"namespace": "crm", "name": "a", "code": "return 1", "time_limit": limit}
    response = api.post("/api/v2/setup/algorithm/", body, format="json")
    assert response.status_code == 400
    assert "from 0.1 to 300 seconds" in str(response.json()["time_limit"])
    page = signed_in.post(
        "/admin/workflows/algorithm/add/",
        {
            "namespace": namespace.pk,
            "name": "a",
            "code": "return 1",
            "parameters": "[]",
            "time_limit": limit,
        },
    )
    assert page.status_code == 200 and "from 0.1 to 300 seconds" in page.content.decode()
    assert not Algorithm.objects.exists()


def test_algorithms_default_to_the_runner_time_limit(api, namespace, settings):
    body = {"namespace": "crm", "name": "a", "code": "return 1"}
    assert api.post("/api/v2/setup/algorithm/", body, format="json").json()["time_limit"] == 10


@pytest.mark.parametrize(
    ("field", "value"),
    [("lot_size", 0), ("lot_size", 10**12), ("max_attempts", 0), ("max_attempts", 999)],
)
def test_flow_numbers_are_bounded(api, namespace, converter, field, value):
    body = {
        "namespace": "crm",
        "name": "f",
        field: value,
        "translator": {"namespace": "crm", "name": converter.name},
    }
    response = api.post("/api/v2/setup/flow/", body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not Flow.objects.exists()


@pytest.mark.parametrize(
    "pagination",
    [
        {"type": "page_number", "size_param": "n", "size": 10**9},
        {"type": "offset", "limit": 10**30},
        {"type": "page_number", "max_pages": 0},
    ],
)
def test_pagination_numbers_are_bounded(api, namespace, pagination):
    body = {"namespace": "crm", "name": "w", "path": "x", "pagination": pagination}
    response = api.post("/api/v2/setup/webhook/", body, format="json")
    assert response.status_code == 400 and "pagination" in response.json()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_beat_skips_and_reports_an_entry_it_cannot_schedule(make, namespace):
    bad = make(Scheduler, "bad", kind="scheduler", expression="every 1d")
    make(Scheduler, "good", kind="scheduler", expression="every 1s")
    # A row written around the services, as one could before values were bounded.
    # Fits the column (PostgreSQL: 32 bits) but not a date: timedelta stops at 10**9 days.
    huge, _ = IntervalSchedule.objects.get_or_create(every=2_000_000_000, period="days")
    PeriodicTask.objects.filter(pk=bad.periodic_task_id).update(interval=huge)
    beat = start_beat()
    try:
        wait_for(
            lambda: "Sending due task scheduler crm.good" in worker_log(beat),
            timeout=30,
            what="beat to send the good scheduler",
            process=beat,
        )
        time.sleep(2)
        assert beat.poll() is None, worker_log(beat)
        assert "Beat skips periodic task 'scheduler crm.bad'" in worker_log(beat)
        note = Notification.objects.get(level="error")
        assert note.namespace == namespace and "Scheduler crm.bad" in note.message
    finally:
        stop_worker(beat)
