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
