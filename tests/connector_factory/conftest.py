"""Fixtures of the connector factory's tests: the local CRM-like API, generation, task runs."""

from __future__ import annotations

import pytest

from apps.workflows.engine.runner import task_run
from apps.workflows.models import Task

from .crm_api import CrmAPI


@pytest.fixture(autouse=True)
def local_remote(settings):
    # The CRM runs on 127.0.0.1; real backoff would make the error tests slow.
    settings.GATEWAY_DENY_PRIVATE_ADDRESSES = False
    settings.GATEWAY_RETRY_BACKOFF = 0.01
    settings.GATEWAY_RETRY_MAX_DELAY = 0.05


@pytest.fixture
def crm():
    api = CrmAPI().start()
    yield api
    api.stop()


def run_pending(limit: int = 200) -> list[Task]:
    """Run every pending task here, as a worker would, until none is left; the tasks run."""
    done = []
    for _ in range(limit):
        task = Task.objects.filter(status=Task.Status.PENDING).order_by("pk").first()
        if task is None:
            return done
        task_run(task.pk, worker="test")
        task.refresh_from_db()
        done.append(task)
    raise AssertionError(f"tasks still pending after {limit} runs")
