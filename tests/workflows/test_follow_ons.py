"""Follow-ons: the first task a worker's task starts through an observer is held for
that worker and run right after it, without a trip through the broker; a second one
sends both through the broker; a held task whose worker died is sent by the recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from apps.data.models import DataType
from apps.data.services import records_save
from apps.workflows.engine import runner
from apps.workflows.engine.runner import HELD, FollowOns, _acquire, task_run
from apps.workflows.models import Flow, Task
from apps.workflows.services import tasks_recover
from tests.workflows.integration import build_integration

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sent(monkeypatch):
    """The jobs sent through the broker: (task id, kwargs); none is run."""
    from apps.workflows import tasks

    jobs: list[tuple[int, dict]] = []
    monkeypatch.setattr(
        tasks.run_task,
        "apply_async",
        lambda args, kwargs=None, **_: jobs.append((args[0], kwargs or {})),
    )
    return jobs


def _contacts(n: int) -> list[dict]:
    return [{"id": i, "first": "F", "last": f"L{i}", "email": f"{i}@a.test"} for i in range(n)]


def test_a_change_travels_the_chain_in_one_worker_job(namespace, system_b, sent):
    build_integration(namespace, b_url=system_b.url, lot_size=10)
    records_save(data_type=DataType.objects.get(name="Contact"), records=_contacts(1))
    [(convert_id, _)] = sent  # the API's write sends the conversion through the broker
    sent.clear()

    task_run(convert_id, worker="w1", follow=True)  # what the worker's job does

    export = Task.objects.get(flow__name="export_customers")
    assert export.status == Task.Status.COMPLETED and export.lock_owner == ""
    assert [body["ref"] for body in system_b.received] == [0]
    assert sent == []  # the export went through no broker: this job ran it
    convert = Task.objects.get(pk=convert_id)
    assert export.executions.get().started_at >= convert.executions.get().finished_at


def test_a_second_follow_on_sends_both_through_the_broker(namespace, system_b, sent):
    build_integration(namespace, b_url=system_b.url, lot_size=10)
    export = Flow.objects.get(name="export_customers")
    export.lot_size = 1  # two customers: two export tasks
    export.save()
    records_save(data_type=DataType.objects.get(name="Contact"), records=_contacts(2))
    [(convert_id, _)] = sent
    sent.clear()

    task_run(convert_id, worker="w1", follow=True)

    exports = list(Task.objects.filter(flow__name="export_customers").order_by("pk"))
    assert len(exports) == 2 and all(t.status == Task.Status.PENDING for t in exports)
    # The first was held, then sent when the second came; both may be run by any worker.
    assert sent == [(exports[0].pk, {"held": True}), (exports[1].pk, {})]
    assert system_b.received == []
    for task_id, kwargs in sent:
        task_run(task_id, worker="w2", **kwargs)
    assert sorted(body["ref"] for body in system_b.received) == [0, 1]


def test_a_held_task_is_taken_only_by_the_job_given_it(namespace, customer_flow_task):
    task = customer_flow_task
    assert not _acquire(task.pk, "a plain message")  # its lock is the hold
    assert _acquire(task.pk, "the job given it", held=True)
    assert not _acquire(task.pk, "another job given it", held=True)  # taken now


def test_a_follow_on_held_too_long_is_sent(monkeypatch, sent):
    follow_ons = FollowOns()
    assert follow_ons.claim() and not follow_ons.claim()  # the first only
    follow_ons.hold(41)
    now = runner.time.monotonic()
    follow_ons.send_overdue(now)
    assert sent == []
    follow_ons.send_overdue(now + runner.HOLD_SECONDS + 0.1)  # what the heartbeat thread does
    assert sent == [(41, {"held": True})]
    assert follow_ons.take() is None


def test_a_held_task_whose_worker_died_is_sent_by_the_recovery(namespace, customer_flow_task, sent):
    task = customer_flow_task
    assert tasks_recover() == []  # its hold has not expired: its worker may still run it
    Task.objects.filter(pk=task.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert tasks_recover() == [task.pk]
    task.refresh_from_db()
    assert (task.status, task.lock_owner, task.locked_until) == (Task.Status.PENDING, "", None)
    assert sent == [(task.pk, {})]
    assert settings.CELERY_BEAT_SCHEDULE["recover-tasks"]["task"] == "workflows.recover_tasks"


@pytest.fixture
def customer_flow_task(namespace):
    """A follow-on as a worker's task holds it: pending, locked as held."""
    build_integration(namespace, b_url="http://127.0.0.1:9")
    return Task.objects.create(
        namespace=namespace,
        kind=Task.Kind.FLOW,
        flow=Flow.objects.get(name="export_customers"),
        input={"keys": []},
        lock_owner=HELD,
        locked_until=timezone.now() + timedelta(seconds=runner.LOCK_SECONDS),
    )


def test_a_follow_on_cancelled_before_its_maker_ends_does_not_run(
    namespace, system_b, sent, monkeypatch
):
    build_integration(namespace, b_url=system_b.url, lot_size=10)
    records_save(data_type=DataType.objects.get(name="Contact"), records=_contacts(1))
    [(convert_id, _)] = sent
    sent.clear()
    hold = FollowOns.hold

    def hold_then_cancel(self, task_id):
        hold(self, task_id)
        Task.objects.filter(pk=task_id).update(status=Task.Status.CANCELLED)  # a user's cancel

    monkeypatch.setattr(FollowOns, "hold", hold_then_cancel)

    assert task_run(convert_id, worker="w1", follow=True) == Task.Status.COMPLETED

    export = Task.objects.get(flow__name="export_customers")
    assert export.status == Task.Status.CANCELLED and not export.executions.exists()
    assert system_b.received == [] and sent == []
    assert Task.objects.get(pk=convert_id).status == Task.Status.COMPLETED


def test_a_task_on_a_connection_the_database_dropped_runs_on_a_new_one(namespace, system_b, sent):
    """Persistent connections (CONN_MAX_AGE) outlive a database restart: before a job's
    first statement, as before a request's, the connection is checked and opened again
    (the engine's statements go around Django's cursor; they skipped the check, and the
    job failed)."""
    from django.db import close_old_connections, connection

    build_integration(namespace, b_url=system_b.url, lot_size=10)
    records_save(data_type=DataType.objects.get(name="Contact"), records=_contacts(1))
    [(convert_id, _)] = sent
    sent.clear()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        import psycopg

        settings_dict = connection.settings_dict
        with psycopg.connect(
            dbname=settings_dict["NAME"], user=settings_dict["USER"],
            host=settings_dict["HOST"], port=settings_dict["PORT"] or 5432,
            autocommit=True,
        ) as other:  # fmt: skip
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
    else:  # SQLite: a connection closed under Django's feet
        connection.connection.close()
    close_old_connections()  # a new job (the worker's task_prerun), as a new request

    task_run(convert_id, worker="w1", follow=True)

    assert [body["ref"] for body in system_b.received] == [0]
    assert Task.objects.get(pk=convert_id).status == Task.Status.COMPLETED
