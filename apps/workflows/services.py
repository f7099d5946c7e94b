"""Writes of the workflows app: starting, retrying and cancelling tasks; notifications.

Views, admin actions, management commands, Celery tasks and the dispatcher
call these; none of them holds the logic.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.data.models import Namespace
from apps.data.upsert import lean_insert

from .models import Algorithm, Event, Flow, Notification, Task

logger = logging.getLogger(__name__)

# A pending task nobody picked up for this long no longer blocks its scheduler.
STALE_PENDING = timedelta(hours=1)


def _enqueue(task: Task, *, countdown: float | None = None) -> None:
    from .tasks import run_task

    transaction.on_commit(lambda: run_task.apply_async((task.pk,), countdown=countdown))


def flow_enqueue(
    *,
    flow: Flow,
    keys: list[str] | None = None,
    reason: str = "",
    actor=None,
    follow_on: bool = False,
) -> Task:
    """Create a pending task for ``flow`` (over ``keys``, or its whole scope) and enqueue it.

    ``follow_on`` (the dispatcher's lots): started by a worker's task, the first one is held
    for that worker to run next instead of going through the broker (runner.FollowOns)."""
    from .engine.runner import HELD, LOCK_SECONDS, holding

    follow_ons = holding() if follow_on else None
    held = follow_ons is not None and follow_ons.claim()
    task = Task(
        namespace_id=flow.namespace_id,
        kind=Task.Kind.FLOW,
        flow=flow,
        description=f"Flow {flow}" + (f" ({reason})" if reason else ""),
        input={"keys": keys} if keys is not None else {},
        max_attempts=flow.max_attempts if flow.auto_retry else 1,
        owner=actor,
        **(
            {"lock_owner": HELD, "locked_until": timezone.now() + timedelta(seconds=LOCK_SECONDS)}
            if held
            else {}
        ),
    )
    lean_insert(task)  # on the path of every change: the ORM's create took twice as long
    if follow_ons is None:
        _enqueue(task)
    elif held:
        transaction.on_commit(lambda: follow_ons.hold(task.pk))
    else:
        follow_ons.refuse()  # a second follow-on: the held one goes too
        _enqueue(task)
    return task


def records_import_enqueue(*, data_type, records: list, actor=None) -> Task:
    """Store records in the background (``POST …/?async=1``) as a data-import task."""
    task = Task.objects.create(
        namespace_id=data_type.namespace_id,
        kind=Task.Kind.DATA_IMPORT,
        description=f"Import of {len(records)} record(s) into {data_type}",
        input={"data_type": data_type.pk, "records": records},
        owner=actor,
    )
    _enqueue(task)
    return task


def flow_run(*, flow: Flow, actor=None, sync: bool = False) -> Task:
    """Run a flow on demand (admin, API, CLI): in a worker, or in this process with ``sync``
    (the CLI's ``--sync``; user code still runs in runners). A sync run that fails and may
    be retried (the flow's auto-retry) is left ``retrying`` for a worker, like any other."""
    if not flow.active:
        from django.core.exceptions import ValidationError

        raise ValidationError(f"Flow {flow} is not active.", code="inactive")
    if sync:
        task = Task.objects.create(
            namespace_id=flow.namespace_id,
            kind=Task.Kind.FLOW,
            flow=flow,
            owner=actor,
            description=f"Flow {flow} (on demand)",
            max_attempts=flow.max_attempts if flow.auto_retry else 1,
        )
        from .engine.runner import task_run

        task_run(task.pk, worker="sync")
        task.refresh_from_db()
        return task
    return flow_enqueue(flow=flow, reason="on demand", actor=actor)


def algorithm_run(
    *, algorithm: Algorithm, arguments: dict[str, Any], actor=None, sync: bool = False
) -> Task:
    """Run an algorithm as a task; ``sync`` runs it here and returns the finished task.

    The arguments are checked against the parameters first: a missing, unknown or
    mistyped one is a ValidationError here, not a failed task later."""
    from django.core.exceptions import ValidationError

    from .engine.algorithms import AlgorithmFailed, bind_arguments

    try:
        bind_arguments(algorithm, arguments)
    except AlgorithmFailed as error:
        raise ValidationError({"input": str(error)}, code=error.code) from None
    task = Task.objects.create(
        namespace_id=algorithm.namespace_id,
        kind=Task.Kind.ALGORITHM,
        algorithm=algorithm,
        description=f"Algorithm {algorithm}",
        input={"arguments": arguments},
        owner=actor,
    )
    if sync:
        from .engine.runner import task_run

        task_run(task.pk, worker="sync")
        task.refresh_from_db()
    else:
        _enqueue(task)
    return task


def task_wait(*, task: Task, timeout: float | None = None) -> Task:
    """The task, refreshed once it has finished or ``timeout`` seconds have passed
    (SYNC_WAIT_SECONDS): what ``{"sync": true}`` waits for, so that no web worker
    is held longer than that. The task runs in a worker; a web process never runs it."""
    import time

    from django.conf import settings

    wait = settings.SYNC_WAIT_SECONDS if timeout is None else timeout
    deadline = time.monotonic() + wait
    delay = 0.01
    while True:
        task.refresh_from_db()
        if task.status not in Task.UNFINISHED:
            return task
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return task
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.1)


def task_retry(*, task: Task) -> Task:
    """Run a failed, broken or cancelled task again, keeping its state."""
    if task.status not in {
        Task.Status.FAILED,
        Task.Status.BROKEN,
        Task.Status.CANCELLED,
        Task.Status.PAUSED,
    }:
        from django.core.exceptions import ValidationError

        raise ValidationError(
            f"Task #{task.pk} is {task.status}: only failed, broken, cancelled or paused "
            "tasks can be retried.",
            code="not_retryable",
        )
    # One more attempt than it has had; auto-retries start again from there.
    Task.objects.filter(pk=task.pk).update(
        status=Task.Status.PENDING, max_attempts=task.attempts + 1, finished_at=None
    )
    task.refresh_from_db()
    _enqueue(task)
    return task


def tasks_recover(*, worker: str | None = None) -> list[int]:
    """Tasks left behind by a dead worker, given back to the queue; their ids.

    Called when worker ``worker`` starts: a node name is unique among live
    workers, so a task still marked running by an execution of that name lost
    its worker (killed, machine lost). So did any running task whose lock
    expired, and any pending one held for a worker (runner.FollowOns) whose hold
    expired. Each is made pending again with its saved state, and resumes there.
    Beat also calls this every minute without a worker name ("recover-tasks" in
    CELERY_BEAT_SCHEDULE): expired locks only.
    """
    from .models import Execution

    now = timezone.now()
    expired = Q(status__in=[Task.Status.RUNNING, Task.Status.PENDING], locked_until__lt=now)
    if worker is not None:
        orphans = Execution.objects.filter(status=Task.Status.RUNNING, worker=worker[:100])
        expired |= Q(status=Task.Status.RUNNING, pk__in=orphans.values("task_id"))
    recovered = []
    for task in Task.objects.filter(expired):
        released = Task.objects.filter(pk=task.pk, status=task.status, lock_owner=task.lock_owner)
        if not released.update(status=Task.Status.PENDING, lock_owner="", locked_until=None):
            continue
        if task.status == Task.Status.RUNNING:
            Execution.objects.filter(task=task, status=Task.Status.RUNNING).update(
                status=Task.Status.BROKEN,
                finished_at=now,
                error="The worker running this attempt stopped before it ended.",
            )
            logger.warning("Task #%s was left running by a dead worker; enqueued again", task.pk)
        else:
            logger.warning("Task #%s was held by a worker that stopped; enqueued", task.pk)
        _enqueue(task)
        recovered.append(task.pk)
    return recovered


def task_cancel(*, task: Task) -> Task:
    """Stop a task: a pending one never starts, a running one stops at its next step."""
    Task.objects.filter(pk=task.pk, status__in=Task.UNFINISHED).update(
        status=Task.Status.CANCELLED, finished_at=timezone.now()
    )
    task.refresh_from_db()
    return task


def scheduler_fire(*, event: Event) -> list[Task]:
    """A scheduler's beat entry: enqueue its flows, except those still running."""
    if not event.active:
        return []
    started = []
    now = timezone.now()
    for flow in event.flows.filter(active=True):
        busy = Task.objects.filter(flow=flow).filter(
            Q(status=Task.Status.RUNNING, locked_until__gt=now)
            | Q(
                status__in=[Task.Status.PENDING, Task.Status.RETRYING],
                updated_at__gt=now - STALE_PENDING,
            )
        )
        if busy.exists():
            logger.info("Scheduler %s: flow %s is still running; not starting another", event, flow)
            continue
        started.append(flow_enqueue(flow=flow, reason=f"scheduler {event}"))
    return started


def notify(
    *,
    namespace: Namespace | int,
    level: str,
    message: str,
    attachment: Any = None,
    task: Task | None = None,
    execution=None,
) -> Notification:
    namespace_id = namespace if isinstance(namespace, int) else namespace.pk
    return Notification.objects.create(
        namespace_id=namespace_id,
        level=level,
        message=message[:5000],
        attachment=attachment,
        task=task,
        execution=execution,
    )


def element_save(*, model, namespace: Namespace, name: str, instance=None, actor=None, **fields):
    """Create or change a workflows element (translator, algorithm, event, flow).

    Everything is validated first (``full_clean``: algorithms compile, mappings
    and templates compile, schedules parse; ``actor``, the user saving, must be
    allowed the references to other namespaces), so a bad definition changes nothing.
    """
    from apps.data.services import element_save as save

    element = instance or model()
    return save(element, {"namespace": namespace, "name": name, **fields}, actor=actor)


def tasks_prune(*, days: int | None = None) -> int:
    """Delete finished tasks (with their executions and notifications) older than ``days``."""
    from django.conf import settings

    days = settings.TASK_RETENTION_DAYS if days is None else days
    finished = [Task.Status.COMPLETED, Task.Status.FAILED, Task.Status.CANCELLED]
    old = Task.objects.filter(
        status__in=finished, updated_at__lt=timezone.now() - timedelta(days=days)
    )
    deleted, _ = old.delete()
    return deleted
