"""A worker killed (SIGKILL) in the middle of a multi-page import: the restarted worker
finishes it from the page where it stopped, with every record exactly once."""

from __future__ import annotations

import os
import signal
from collections import Counter

import pytest

from apps.connector_factory.generator import connector_generate
from apps.data.models import Record
from apps.workflows.models import Algorithm, Execution, Task
from apps.workflows.services import algorithm_run
from tests.workers import start_worker, stop_worker, tasks_routed_to, wait_for

from .specs import contact_spec

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUE = "connector_kill"
# The worker enqueues the next lots itself: to its own queue too.
ENV = {"GATEWAY_DENY_PRIVATE_ADDRESSES": "false", "CELERY_QUEUE": QUEUE}


def test_a_killed_worker_resumes_the_import_with_every_record_once(crm, admin_user):
    crm.page_delay = 0.1  # 20 pages of 50: about two seconds of import
    spec = contact_spec(crm.url)
    spec["resources"][0]["import"]["pagination"]["size"] = 50
    connector_generate(spec=spec, actor=admin_user)
    algorithm = Algorithm.objects.get(namespace__name="crm_demo", name="do_import_contacts")
    with tasks_routed_to(QUEUE):
        worker = start_worker(queue=QUEUE, concurrency=1, env=ENV)
        try:
            task = algorithm_run(
                algorithm=algorithm, arguments={"options": {"pages_per_run": 4}}, actor=admin_user
            )

            def pages_done() -> int:
                return (Task.objects.get(pk=task.pk).state or {}).get("pages", 0)

            wait_for(lambda: pages_done() >= 7, timeout=60, what="7 pages", process=worker)
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
            stopped = Task.objects.get(pk=task.pk)
            assert stopped.status == Task.Status.RUNNING  # as the dead worker left it
            assert 7 <= stopped.state["pages"] < 20
            worker = start_worker(queue=QUEUE, concurrency=1, env=ENV)
            wait_for(
                lambda: Task.objects.get(pk=task.pk).status == Task.Status.COMPLETED,
                timeout=90,
                what="the restarted worker to finish the import",
                process=worker,
            )
        finally:
            stop_worker(worker)
    task.refresh_from_db()
    assert task.result == {"imported": 1000, "pages": 20}
    keys = list(Record.objects.filter(data_type__name="Contact").values_list("key", flat=True))
    assert len(keys) == 1000 and sorted(map(int, keys)) == list(range(1, 1001))
    pages = Counter(int(r["query"]["page"][0]) for r in crm.of("GET", "/contacts"))
    assert set(pages) == set(range(1, 21))
    # Resumed at the page where it stopped: only the page in flight was asked for twice.
    assert sum(pages.values()) <= 21, pages
    broken = Execution.objects.filter(task=task, status=Task.Status.BROKEN)
    assert broken.count() == 1  # the attempt the kill cut short


def test_two_exports_of_one_record_at_once_make_one_create(crm, admin_user, api):
    """Two changes close together: two tasks, run at once by a worker's two threads;
    the export lock makes the second wait, and find the record already created."""
    crm.write_delay = 0.5
    connector_generate(spec=contact_spec(crm.url), actor=admin_user)
    with tasks_routed_to(QUEUE):
        worker = start_worker(queue=QUEUE, concurrency=2, env=ENV)
        try:
            record = {"remote_id": "PENDING-PUBLISH-FROM-race", "raw_data": {"first_name": "Di"}}
            assert api.post("/api/v2/crm_demo/Contact/", record, format="json").status_code == 201
            record["raw_data"] = {"first_name": "Dee"}
            url = "/api/v2/crm_demo/Contact/PENDING-PUBLISH-FROM-race/"
            assert api.put(url, record, format="json").status_code == 200
            exports = Task.objects.filter(flow__name="export_contact")
            assert exports.count() == 2
            wait_for(
                lambda: not exports.filter(status__in=Task.UNFINISHED).exists(),
                timeout=60, what="both exports", process=worker,
            )  # fmt: skip
        finally:
            stop_worker(worker)
    assert [t.status for t in exports] == [Task.Status.COMPLETED] * 2
    first, second = sorted(Execution.objects.filter(task__in=exports), key=lambda e: e.started_at)
    assert second.started_at < first.finished_at  # they ran at once
    assert len(crm.of("POST")) == 1 and not crm.of("PUT")
    assert crm.of("POST")[0]["body"] == {"first_name": "Dee"}
    keys = list(Record.objects.filter(data_type__name="Contact").values_list("key", flat=True))
    assert keys == ["1001"]
