"""Import flows in-process: pages read ahead, progress reported but not written per page."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.data.models import Record
from apps.gateway.services import connection_save, webhook_save
from apps.workflows.engine import runner
from apps.workflows.engine.runner import Cancelled, TaskContext, task_run
from apps.workflows.models import Execution, Flow, Task, Translator
from tests.workflows.systems import SystemA

CONTACTS = [{"id": i, "first": f"F{i}", "last": f"L{i}"} for i in range(1, 41)]


class SlowSystemA(SystemA):
    """System A taking ``delay`` seconds per page, as remote APIs do."""

    delay = 0.0

    def handle(self, handler, method):
        time.sleep(self.delay)
        super().handle(handler, method)


@pytest.fixture
def system_a():
    a = SlowSystemA(CONTACTS).start()
    yield a
    a.stop()


@pytest.fixture
def import_flow(make, contact, namespace, system_a):
    conn = connection_save(namespace=namespace, name="system_a", base_url=system_a.url)
    webhook = webhook_save(
        namespace=namespace, name="get_contacts", path="contacts", connection=conn,
        records_path="data",
        pagination={"type": "page_number", "size_param": "per_page", "size": 2,
                    "has_more_path": "more"},
    )  # fmt: skip
    parse = make(
        Translator, "parse", type="import", style="mapping", target_data_type=contact, mapping={}
    )
    return make(Flow, "import_contacts", translator=parse, webhook=webhook)


def run(flow) -> Task:
    task = Task.objects.create(namespace_id=flow.namespace_id, kind=Task.Kind.FLOW, flow=flow)
    task_run(task.pk)
    task.refresh_from_db()
    return task


def progress_writes(queries) -> int:
    """UPDATEs of a task's progress while it runs (not the one that records its end)."""
    return sum(
        1
        for q in queries
        if q["sql"].startswith("UPDATE") and '"progress"' in q["sql"] and '"result"' not in q["sql"]
    )


def test_a_fast_import_writes_its_progress_once_not_per_page(import_flow, contact):
    with CaptureQueriesContext(connection) as queries:
        task = run(import_flow)
    assert task.status == Task.Status.COMPLETED, task.notifications.first()
    assert task.result["created"] == 40 and task.result["pages"] == 20
    assert Record.objects.filter(data_type=contact).count() == 40
    # 20 pages, none written within the first second; the end writes 100.
    assert progress_writes(queries) <= int(task.result["seconds"] / runner.PROGRESS_SECONDS)
    assert task.progress == 100


def test_a_long_import_reports_progress_while_it_runs(import_flow, system_a):
    system_a.delay = 0.1  # 20 pages: two seconds or more
    with CaptureQueriesContext(connection) as queries:
        task = run(import_flow)
    assert task.status == Task.Status.COMPLETED
    seconds = task.result["seconds"]
    assert seconds >= 1.9
    writes = progress_writes(queries)
    assert 1 <= writes <= seconds / runner.PROGRESS_SECONDS
    assert task.progress == 100


def test_a_cancellation_is_seen_at_the_next_progress_written(monkeypatch, import_flow):
    monkeypatch.setattr(runner, "PROGRESS_SECONDS", 0.2)
    task = Task.objects.create(
        namespace_id=import_flow.namespace_id, kind=Task.Kind.FLOW, flow=import_flow,
        lock_owner="me", status=Task.Status.RUNNING,
    )  # fmt: skip
    context = TaskContext(task, Execution.objects.create(task=task, attempt=1), "me")
    context.progress(5)  # at the start: not written
    assert Task.objects.get(pk=task.pk).progress == 0
    time.sleep(0.25)
    context.progress(10)
    assert Task.objects.get(pk=task.pk).progress == 10
    Task.objects.filter(pk=task.pk).update(status=Task.Status.CANCELLED)
    context.progress(20)  # within the interval: not written, not looked at
    time.sleep(0.25)
    with pytest.raises(Cancelled):
        context.progress(30)


def test_a_failing_store_stops_the_page_reading_and_leaves_no_thread(
    monkeypatch, import_flow, system_a
):
    from apps.gateway.models import RequestLog
    from apps.workflows.engine import flows

    stored = []

    def store(data_type, records, flow, context, total):
        if len(stored) == 2:
            raise OSError("disk full")  # what a database may answer
        stored.append(records)

    monkeypatch.setattr(flows, "_store", store)
    system_a.delay = 0.05
    task = run(import_flow)
    assert task.status == Task.Status.FAILED and "disk full" in task.executions.get().error
    assert not [t for t in threading.enumerate() if t.name.startswith("prefetch-")]
    requested = len(system_a.requests)
    assert 3 <= requested <= 5  # the three pages it took, at most two read ahead
    time.sleep(0.2)
    assert len(system_a.requests) == requested
    assert RequestLog.objects.filter(webhook=import_flow.webhook).count() == requested
