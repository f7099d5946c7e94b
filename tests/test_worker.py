"""A task enqueued by the web process is executed by a real worker process.

Runs on the embedded filesystem broker under `make test` and on Redis in the
services run of .ci/run (CELERY_BROKER_URL).
"""

import time

import pytest
from django.conf import settings

from apps.data.models import Record
from apps.data.services import data_type_save
from tests.workers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_async_import_runs_on_the_worker(api, namespace, celery_worker_process):
    data_type_save(
        namespace=namespace,
        name="Contact",
        schema={"type": "object", "properties": {"id": {"type": "integer"}}},
    )
    records = [{"id": i} for i in range(50)] + [{"id": "bad"}]
    started = time.monotonic()
    response = api.post("/api/v2/crm/Contact/?async=1", records, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["records"] == 51 and body["status"] == "pending"
    wait_for(
        lambda: api.get(body["url"]).json()["status"] == "completed",
        what=f"the worker to run the import via {settings.CELERY_BROKER_URL}",
        process=celery_worker_process,
    )
    elapsed = time.monotonic() - started
    assert sorted(int(k) for k in Record.objects.values_list("key", flat=True)) == list(range(50))
    task = api.get(body["url"]).json()
    assert task["result"]["created"] == 50 and task["result"]["invalid"] == 1
    assert task["input"]["records"] == 51  # the stored records are not kept twice
    notes = api.get(f"/api/v2/setup/notification/?task={body['task']}").json()["results"]
    assert "1 of 51 record(s) did not fit crm.Contact" in notes[0]["message"]
    assert "$.id" in notes[0]["message"]
    assert elapsed < 30


def _sessions_so_far() -> int:
    """Sessions ever opened on the test database (PostgreSQL's statistics)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_the_worker_keeps_its_database_connection_between_tasks(
    api, namespace, celery_worker_process
):
    """Celery closes every connection around every task unless told otherwise; a new
    PostgreSQL connection per task was three quarters of a small task's time."""
    from django.db import connection

    if connection.vendor != "postgresql":
        # There a connection is a file opened, and closed after each task by design.
        assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 0
        return
    data_type_save(namespace=namespace, name="Thing", schema={"type": "object"})

    def run_one(i: int) -> None:
        body = api.post("/api/v2/crm/Thing/?async=1", [{"id": i}], format="json").json()
        wait_for(
            lambda: api.get(body["url"]).json()["status"] == "completed",
            what="the worker to store a record",
            process=celery_worker_process,
        )

    run_one(0)  # the worker's processes have their connections now
    before = _sessions_so_far()
    for i in range(1, 9):
        run_one(i)
    time.sleep(1)  # a closed session's statistics reach the view as it exits
    opened = _sessions_so_far() - before
    assert opened < 4, f"{opened} database sessions opened for 8 tasks"
