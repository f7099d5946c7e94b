"""What one run may ask of the platform through ``api``: bounded in time and in size.

The time the platform spends answering calls does not count against a run's time
limit, so a run that keeps calling would hold its worker (and write notifications)
for as long as it liked; past RUNNER_TIME_LIMIT_MAX seconds of wall time, answers
included, its next call ends it.
"""

from __future__ import annotations

import time

import pytest

from apps.data.services import data_type_save
from apps.workflows.models import Algorithm, Notification
from apps.workflows.services import algorithm_run, element_save

pytestmark = pytest.mark.django_db


def run(namespace, code: str, *, time_limit: float = 2):
    algorithm = element_save(
        model=Algorithm, namespace=namespace, name="caller", code=code, time_limit=time_limit
    )
    started = time.monotonic()
    task = algorithm_run(algorithm=algorithm, arguments={}, sync=True)
    return task, task.executions.get().error, time.monotonic() - started


def test_a_run_that_keeps_calling_the_platform_ends_at_the_maximum(namespace, settings):
    settings.RUNNER_TIME_LIMIT_MAX = 2
    data_type_save(namespace=namespace, name="Item", schema={"type": "object"})
    task, error, seconds = run(namespace, "while True:\n    api.records('Item').count()")
    assert task.status == "failed"
    assert "it ran for more than 2 s, counting the platform's answers to its api calls" in error
    assert seconds < 6  # without the bound: its 2 s of own time, and every answer on top


def test_a_notification_attachment_is_bounded(namespace):
    task, error, _ = run(namespace, 'api.notify("x", attachment={"big": "x" * 200000})\nreturn 1')
    assert task.status == "failed"
    assert "notify(): the attachment is 200011 bytes of JSON, more than the 100000" in error
    assert Notification.objects.filter(namespace=namespace, level="info").count() == 0
