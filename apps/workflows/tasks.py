"""Celery tasks of the workflows app: thin, they take ids and call the engine."""

from __future__ import annotations

import socket

from celery import shared_task

from .engine.runner import task_run
from .models import Event
from .services import scheduler_fire, tasks_prune, tasks_recover


@shared_task(name="workflows.run_task", acks_late=True)
def run_task(task_id: int, held: bool = False) -> str | None:
    """Run a task, then the follow-on it held for this worker, if any (runner.FollowOns).
    ``held``: the task was held for another worker's job, which sent it on."""
    worker = f"{run_task.request.hostname or socket.gethostname()}"
    return task_run(task_id, worker=worker, held=held, follow=not run_task.request.is_eager)


@shared_task(name="workflows.fire_scheduler")
def fire_scheduler(event_id: int) -> int:
    event = Event.objects.filter(pk=event_id).first()
    return len(scheduler_fire(event=event)) if event else 0


@shared_task(name="workflows.prune_tasks")
def prune_tasks() -> int:
    """Beat runs this daily (CELERY_BEAT_SCHEDULE): drop finished tasks past retention."""
    return tasks_prune()


@shared_task(name="workflows.recover_tasks")
def recover_tasks() -> int:
    """Beat runs this every minute: tasks whose worker died (an expired lock) run again."""
    return len(tasks_recover())
