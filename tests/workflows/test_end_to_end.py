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

from apps.data.models import Record
from apps.data.services import data_type_save
from apps.gateway.models import Connection, Webhook
from apps.gateway.services import connection_save, webhook_save
from apps.workflows.models import Flow, Observer, Scheduler, Task, Translator
from tests.workers import start_beat, stop_worker, wait_for
from tests.workflows.conftest import CONTACT, CUSTOMER
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
    process = start_beat()
    yield process
    stop_worker(process)


def build_integration(namespace, a_url, b_url, make):
    contact = data_type_save(namespace=namespace, name="Contact", schema=CONTACT)
    customer = data_type_save(namespace=namespace, name="Customer", schema=CUSTOMER)
    # Process A: import, on a schedule.
    conn_a = connection_save(namespace=namespace, name="system_a", base_url=a_url)
    get_contacts = webhook_save(
        namespace=namespace,
        name="get_contacts",
        path="contacts",
        method="GET",
        connection=conn_a,
        records_path="data",
        pagination={
            "type": "page_number",
            "page_param": "page",
            "size_param": "per_page",
            "size": 10,
            "has_more_path": "more",
        },
    )
    parse = make(
        Translator,
        "parse_contacts",
        type="import",
        style="mapping",
        target_data_type=contact,
        mapping={},
    )
    every = make(Scheduler, "every_two_seconds", kind="scheduler", expression="every 2s")
    make(Flow, "import_contacts", event=every, translator=parse, webhook=get_contacts)
    # Process B: convert, when a contact is created or changed.
    convert = make(
        Translator,
        "contact_to_customer",
        type="conversion",
        style="mapping",
        source_data_type=contact,
        target_data_type=customer,
        mapping={"id": "id", "full_name": "{{ first ~ ' ' ~ last }}", "email": "email"},
    )
    on_contact = make(Observer, "contact_changed", kind="observer", data_type=contact)
    make(Flow, "convert_contacts", event=on_contact, translator=convert, lot_size=10)
    # Process C: export, when a customer is created or changed.
    conn_b = connection_save(namespace=namespace, name="system_b", base_url=b_url)
    post_customer = webhook_save(
        namespace=namespace,
        name="post_customer",
        path="customers",
        method="POST",
        connection=conn_b,
    )
    body = make(
        Translator,
        "customer_body",
        type="export",
        style="template",
        source_data_type=customer,
        template='{"name": {{ full_name | tojson }}, "email": {{ email | tojson }}, '
        '"ref": {{ id }}}',
    )
    on_customer = make(Observer, "customer_changed", kind="observer", data_type=customer)
    make(
        Flow,
        "export_customers",
        event=on_customer,
        translator=body,
        webhook=post_customer,
        lot_size=10,
    )
    return contact, customer


def test_import_convert_export(namespace, make, systems, celery_worker_process, beat):
    a, b = systems
    contact, customer = build_integration(namespace, a.url, b.url, make)
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
