"""The engine in-process: conditions, dispatcher, runner, flows, schedules."""

import pytest
from django.core.exceptions import ValidationError
from django_celery_beat.models import PeriodicTask

from apps.data.models import Record
from apps.data.services import record_save, records_save
from apps.workflows.engine.conditions import all_hold
from apps.workflows.engine.runner import LOCK_SECONDS, _acquire, task_run
from apps.workflows.models import Flow, Notification, Scheduler, Task, Translator
from apps.workflows.services import flow_run, scheduler_fire, task_retry

PREV = {"status": "new", "n": 3, "tags": ["a"], "city": "Paris"}
REC = {"status": "paid", "n": 5, "tags": ["a"], "email": "ann@example.com", "city": "Paris"}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"field": "status", "op": "is", "value": "paid"}, True),
        ({"field": "status", "op": "is_not", "value": "paid"}, False),
        ({"field": "email", "op": "like", "value": "%@example.com"}, True),
        ({"field": "email", "op": "like", "value": "EXAMPLE"}, True),
        ({"field": "email", "op": "starts_with", "value": "ann"}, True),
        ({"field": "email", "op": "ends_with", "value": ".org"}, False),
        ({"field": "n", "op": "in", "value": [1, 5]}, True),
        ({"field": "n", "op": "between", "value": [1, 4]}, False),
        ({"field": "n", "op": "gt", "value": 4}, True),
        ({"field": "missing", "op": "_null"}, True),
        ({"field": "email", "op": "_not_null"}, True),
        ({"field": "status", "op": "_change"}, True),
        ({"field": "city", "op": "_change"}, False),
        ({"field": "email", "op": "_presence_change"}, True),
        ({"field": "tags", "op": "_presence_change"}, False),
        ({"field": "n", "op": "gt", "value": "x"}, False),  # incomparable: no match, no crash
    ],
)
def test_cenit_operators(condition, expected):
    assert all_hold([condition], REC, PREV) is expected


def contacts(n, status="new"):
    return [
        {"id": i, "first": f"F{i}", "last": f"L{i}", "email": f"c{i}@x.test", "status": status}
        for i in range(n)
    ]


def test_batch_write_enqueues_one_task_per_lot(
    contact, convert_flow, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as enqueued:
        records_save(data_type=contact, records=contacts(25))
    tasks = list(Task.objects.filter(flow=convert_flow).order_by("pk"))
    assert [len(t.input["keys"]) for t in tasks] == [10, 10, 5]
    assert len(enqueued) == 3
    assert sorted(k for t in tasks for k in t.input["keys"]) == sorted(str(i) for i in range(25))


def test_conditions_select_the_changed_records(contact, convert_flow):
    convert_flow.event.conditions = [{"field": "status", "op": "_change"}]
    convert_flow.event.on_created = False
    convert_flow.event.save()
    records_save(data_type=contact, records=contacts(5))
    assert not Task.objects.exists()
    changed = contacts(5)
    changed[3]["status"] = "paid"
    changed[1]["first"] = "only the name"  # a change the condition does not watch
    records_save(data_type=contact, records=changed)
    assert [t.input["keys"] for t in Task.objects.all()] == [["3"]]


def test_single_orm_save_goes_through_the_dispatcher(contact, convert_flow):
    record_save(data_type=contact, data={"id": 1, "first": "A"})
    record = Record.objects.get(key="1")
    record.data = {"id": 1, "first": "B"}
    record.save()  # a plain ORM save: previous state read before it
    record.save()  # nothing changed: nothing fires
    assert [t.input["keys"] for t in Task.objects.order_by("pk")] == [["1"], ["1"]]


def test_conversion_flow_maps_and_stores(contact, customer, convert_flow):
    records_save(data_type=contact, records=contacts(3))
    task = Task.objects.order_by("pk").first()
    assert task_run(task.pk) == Task.Status.COMPLETED
    task.refresh_from_db()
    assert task.result["created"] == 3 and task.progress == 100
    assert Record.objects.get(data_type=customer, key="2").data == {
        "id": 2,
        "full_name": "F2 L2",
        "email": "c2@x.test",
    }


def test_a_task_never_runs_twice_at_once(contact, convert_flow):
    records_save(data_type=contact, records=contacts(1))
    task = Task.objects.get()
    assert _acquire(task.pk, "worker-1")
    assert not _acquire(task.pk, "worker-2")  # locked
    assert task_run(task.pk) is None
    from datetime import timedelta

    from django.utils import timezone

    Task.objects.filter(pk=task.pk).update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )  # the first worker died: its lock expires
    assert task_run(task.pk) == Task.Status.COMPLETED
    assert Task.objects.get(pk=task.pk).attempts == 2
    assert LOCK_SECONDS > 0


def test_failure_retries_then_fails_with_a_clear_notification(
    make, contact, customer, algorithm, django_capture_on_commit_callbacks
):
    boom = algorithm("boom", "x = record['id']\nreturn 1 / 0", parameters=["record"])
    translator = make(
        Translator,
        "broken",
        type="conversion",
        style="python",
        source_data_type=contact,
        target_data_type=customer,
        algorithm=boom,
    )
    flow = make(Flow, "broken_flow", translator=translator, max_attempts=2)
    records_save(data_type=contact, records=contacts(1))
    task = flow_run(flow=flow)
    with django_capture_on_commit_callbacks() as retries:
        assert task_run(task.pk) == Task.Status.RETRYING
    assert len(retries) == 1  # enqueued again, with backoff
    assert task_run(task.pk) == Task.Status.FAILED
    task.refresh_from_db()
    assert task.attempts == 2 and task.finished_at
    error = Notification.objects.filter(task=task, level="error").get()
    assert "line 2" in error.message and "ZeroDivisionError" in error.message
    assert [e.status for e in task.executions.all()] == ["retrying", "failed"]
    task_retry(task=task)
    task.refresh_from_db()
    assert task.status == Task.Status.PENDING


def test_run_again_works_in_lots_through_task_state(make, namespace, contact, algorithm):
    code = (
        "start = api.task.state.get('next', 0)\n"
        "api.records('Contact').save([{'id': i} for i in range(start, start + 4)])\n"
        "api.task.state['next'] = start + 4\n"
        "if start + 4 < total:\n"
        "    api.task.run_again()\n"
        "return start + 4\n"
    )
    lots = algorithm("import_in_lots", code, parameters=["total"])
    from apps.workflows.services import algorithm_run

    task = algorithm_run(algorithm=lots, arguments={"total": 10}, sync=True)
    statuses = [task.status]
    while task.status == Task.Status.PENDING:
        task_run(task.pk)
        task.refresh_from_db()
        statuses.append(task.status)
    assert statuses == ["pending", "pending", "completed"]
    assert task.result == 12 and task.state == {"next": 12}
    assert Record.objects.filter(data_type=contact).count() == 12


def test_scheduler_keeps_its_periodic_task_in_sync(make):
    scheduler = make(Scheduler, "every_five", kind="scheduler", expression="every 5m")
    periodic = PeriodicTask.objects.get(pk=scheduler.periodic_task_id)
    assert periodic.task == "workflows.fire_scheduler" and periodic.enabled
    assert (periodic.interval.every, periodic.interval.period) == (5, "minutes")
    scheduler.expression = "cron 0 6 * * 1-5"
    scheduler.active = False
    scheduler.save()
    periodic.refresh_from_db()
    assert periodic.crontab.hour == "6" and periodic.interval is None and not periodic.enabled
    scheduler.delete()
    assert not PeriodicTask.objects.filter(pk=periodic.pk).exists()
    with pytest.raises(ValidationError, match="every 5m"):
        make(Scheduler, "bad", kind="scheduler", expression="sometimes")
    with pytest.raises(ValidationError, match="99"):
        make(Scheduler, "bad_minute", kind="scheduler", expression="cron 99 * * * *")


def test_scheduled_flow_does_not_start_while_running(make, contact, converter):
    scheduler = make(Scheduler, "often", kind="scheduler", expression="every 10s")
    flow = make(Flow, "scheduled", event=scheduler, translator=converter, scope="all")
    first = scheduler_fire(event=scheduler)
    assert len(first) == 1
    assert scheduler_fire(event=scheduler) == []  # the first is still pending
    task_run(first[0].pk)
    assert len(scheduler_fire(event=scheduler)) == 1
    assert Task.objects.filter(flow=flow).count() == 2


def test_discard_events_stops_echoes(make, contact, customer, converter):
    observer = make(Flow, "noop", translator=converter)  # a flow without event
    assert observer.event is None
    from apps.workflows.models import Observer

    watch = make(Observer, "customer_changed", kind="observer", data_type=customer)
    export_like = make(Flow, "on_customer", event=watch, translator=converter, active=True)
    flow = make(Flow, "quiet_convert", translator=converter, discard_events=True, scope="all")
    records_save(data_type=contact, records=contacts(2))
    task = flow_run(flow=flow, sync=True)
    assert task.status == Task.Status.COMPLETED
    assert not Task.objects.filter(flow=export_like).exists()


def test_invalid_definitions_are_refused_with_where(make, contact, customer, algorithm):
    with pytest.raises(ValidationError) as raised:
        algorithm("bad_syntax", "x = 1\nreturn (", parameters=[])
    assert "line 2" in str(raised.value)
    with pytest.raises(ValidationError) as raised:
        make(
            Translator,
            "bad_map",
            type="conversion",
            style="mapping",
            source_data_type=contact,
            target_data_type=customer,
            mapping={"full_name": "a..b"},
        )
    assert "full_name" in str(raised.value)
    with pytest.raises(ValidationError, match="webhook"):
        make(
            Flow,
            "no_webhook",
            translator=make(
                Translator,
                "tpl",
                type="export",
                style="template",
                source_data_type=customer,
                template='{"a": 1}',
            ),
        )


def test_finished_tasks_are_pruned_after_retention(settings, contact, convert_flow):
    from datetime import timedelta

    from django.utils import timezone

    from apps.workflows.tasks import prune_tasks

    records_save(data_type=contact, records=contacts(3))
    task = Task.objects.get()
    task_run(task.pk)
    pending = flow_run(flow=convert_flow)
    Task.objects.update(updated_at=timezone.now() - timedelta(days=40))
    settings.TASK_RETENTION_DAYS = 30
    assert settings.CELERY_BEAT_SCHEDULE["prune-tasks"]["task"] == prune_tasks.name
    prune_tasks.run()
    assert list(Task.objects.values_list("pk", flat=True)) == [pending.pk]  # unfinished stay


@pytest.mark.django_db(transaction=True)
def test_a_long_run_keeps_its_lock(monkeypatch, namespace, algorithm):
    """Past LOCK_SECONDS without progress reports, the lock still holds while the task runs."""
    import threading
    import time

    from apps.workflows.engine import runner

    monkeypatch.setattr(runner, "LOCK_SECONDS", 1)
    busy = algorithm("busy", "n = 0\nfor i in range(10 ** 9):\n    n += i\nreturn n",
                     time_limit=2.5)  # fmt: skip
    # Not enqueued: a worker of the session must not take it before this test's thread.
    task = Task.objects.create(
        namespace=busy.namespace, kind=Task.Kind.ALGORITHM, algorithm=busy, input={}
    )
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.setdefault("status", task_run(task.pk)))
    worker.start()
    time.sleep(1.8)  # well past the 1 s lock
    assert not _acquire(task.pk, "a second delivery")
    worker.join(timeout=60)  # a busy machine is slow to end it; it must end all the same
    assert outcome["status"] == Task.Status.FAILED  # the time limit ended it, as it should
    assert "Time limit of 2.5 s exceeded" in Task.objects.get(pk=task.pk).executions.get().error


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_task_stops_its_code_at_once_not_at_its_time_limit(namespace, algorithm):
    """Code that never writes (a busy loop) is stopped within about a second of the
    cancel: its runner is killed, and the core it held is free again."""
    import threading
    import time

    from apps.runners.services import pool
    from apps.workflows.services import task_cancel

    spin = algorithm("spin", "while True:\n    pass", time_limit=60)
    task = Task.objects.create(
        namespace=spin.namespace, kind=Task.Kind.ALGORITHM, algorithm=spin, input={}
    )
    killed = pool().stats["killed"]
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.setdefault("status", task_run(task.pk)))
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while Task.objects.get(pk=task.pk).status != Task.Status.RUNNING:
            assert time.monotonic() < deadline, "the task never started"
            time.sleep(0.05)
        time.sleep(1)  # its code is spinning now
        cancelled_at = time.monotonic()
        task_cancel(task=Task.objects.get(pk=task.pk))
        worker.join(timeout=10)
        stopped_after = time.monotonic() - cancelled_at
    finally:
        worker.join(timeout=70)  # whatever happened, no thread outlives the test
    assert outcome.get("status") == Task.Status.CANCELLED
    assert stopped_after < 5, f"the code ran on {stopped_after:.1f} s after the cancel"
    assert pool().stats["killed"] == killed + 1  # its runner, with the loop in it
    assert Task.objects.get(pk=task.pk).status == Task.Status.CANCELLED
    assert "cancelled" in Task.objects.get(pk=task.pk).executions.get().error


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_task_writes_nothing_more_and_ends_cancelled(namespace, algorithm, contact):
    """Cancel while its code runs: the code's next write is refused, the task ends
    cancelled (not failed), and no failure is notified."""
    import threading
    import time

    from apps.data.models import Record
    from apps.workflows.models import Notification
    from apps.workflows.services import task_cancel

    late = algorithm(
        "late_write",
        "import datetime\n"
        "api.records('Contact').save([{'id': 1}])\n"
        "start = datetime.datetime.now()\n"
        "while (datetime.datetime.now() - start).total_seconds() < 2:\n"
        "    pass\n"
        "api.records('Contact').save([{'id': 777}])\n"
        "return 'done'",
        time_limit=20,
    )
    task = Task.objects.create(
        namespace=late.namespace, kind=Task.Kind.ALGORITHM, algorithm=late, input={}
    )
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.setdefault("status", task_run(task.pk)))
    worker.start()
    deadline = time.monotonic() + 30
    while not Record.objects.filter(key="1").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    task_cancel(task=Task.objects.get(pk=task.pk))
    worker.join(timeout=60)
    assert outcome["status"] == Task.Status.CANCELLED
    assert sorted(Record.objects.values_list("key", flat=True)) == ["1"]  # not 777
    assert Task.objects.get(pk=task.pk).status == Task.Status.CANCELLED
    assert not Notification.objects.filter(task=task, level="error").exists()
    assert "cancelled" in Task.objects.get(pk=task.pk).executions.get().error
