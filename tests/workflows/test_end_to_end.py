"""Cenit's generic process A → B → C, end to end, with real processes.

A real Celery worker and Celery beat (embedded broker under `make test`, Redis
in the services run) and two real HTTP servers: system A serves contacts in
pages; system B receives customers. A scheduled import flow pulls A's contacts,
an observer-triggered converter maps them to customers, and an
observer-triggered export flow posts each customer to B. B must receive every
record exactly once, in the expected shape; after one contact changes in A,
the next import converts and exports exactly that one again.
"""

import time

import pytest

from apps.data.models import DataType, Record
from apps.gateway.models import Connection, Webhook
from apps.workflows.models import Task
from tests.workers import SESSION_QUEUE, start_beat, stop_worker, wait_for
from tests.workflows.integration import build_integration
from tests.workflows.systems import SystemA, SystemB

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

N = 25


@pytest.fixture
def systems():
    a = SystemA(
        [
            {"id": i, "first": f"First{i}", "last": f"Last{i}", "email": f"c{i}@a.test"}
            for i in range(1, N + 1)
        ]
    ).start()
    b = SystemB().start()
    yield a, b
    a.stop()
    b.stop()


@pytest.fixture
def beat(celery_worker_process):
    process = start_beat(env={"CELERY_QUEUE": SESSION_QUEUE})
    yield process
    stop_worker(process)


def test_import_convert_export(namespace, systems, celery_worker_process, beat):
    a, b = systems
    build_integration(namespace, a_url=a.url, b_url=b.url, schedule="every 2s")
    contact, customer = (DataType.objects.get(name=n) for n in ("Contact", "Customer"))
    assert Connection.objects.count() == 2 and Webhook.objects.count() == 2

    wait_for(
        lambda: len(b.received) >= N,
        timeout=60,
        what=f"B to receive {N} customers",
        process=celery_worker_process,
    )
    time.sleep(5)  # more scheduled imports run meanwhile: they must send nothing more
    assert len(b.received) == N, b.received
    assert sorted(r["ref"] for r in b.received) == list(range(1, N + 1))
    assert {"name": "First7 Last7", "email": "c7@a.test", "ref": 7} in b.received
    assert Record.objects.filter(data_type=contact).count() == N
    assert Record.objects.filter(data_type=customer).count() == N
    imports = Task.objects.filter(flow__name="import_contacts", status="completed").count()
    assert imports >= 2
    assert a.requests[:3] == [
        "/contacts?page=1&per_page=10",
        "/contacts?page=2&per_page=10",
        "/contacts?page=3&per_page=10",
    ]

    with a.lock:
        a.contacts[6] = {**a.contacts[6], "last": "Changed"}
    wait_for(
        lambda: len(b.received) > N,
        timeout=30,
        what="the changed contact's export",
        process=celery_worker_process,
    )
    time.sleep(5)
    assert b.received[N:] == [{"name": "First7 Changed", "email": "c7@a.test", "ref": 7}]
    assert not Task.objects.filter(status__in=["failed", "retrying"]).exists()
