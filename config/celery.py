"""The Celery application: the platform's distributed engine.

Workers on more machines only need the same DATABASE_URL and CELERY_BROKER_URL.
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("ipaas")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _prestart_runners(**kwargs) -> None:
    """Warm code runners in the process that runs tasks (DESIGN §6)."""
    from apps.runners.services import prestart

    prestart()


# A prefork child runs tasks; with the thread or solo pool, the worker process itself.
signals.worker_process_init.connect(_prestart_runners, weak=False)


@signals.task_prerun.connect(weak=False)
def _close_old_connections(sender=None, **kwargs) -> None:
    """Before a task, as before a request: drop connections past CONN_MAX_AGE or broken
    (CELERY_DB_REUSE_MAX keeps Celery from closing them all around every task). Not for
    an eager task: it runs inside its caller's work, maybe inside its transaction."""
    from django.db import close_old_connections

    if not getattr(getattr(sender, "request", None), "is_eager", False):
        close_old_connections()


@signals.worker_ready.connect(weak=False)
def _prestart_in_worker(sender=None, **kwargs) -> None:
    pool = getattr(getattr(sender, "pool", None), "__class__", type(None)).__module__
    if "prefork" not in pool:
        _prestart_runners()


@signals.worker_ready.connect(weak=False)
def _recover_tasks(sender=None, **kwargs) -> None:
    """Tasks an earlier worker of this name left running (it was killed) run again."""
    from apps.workflows.services import tasks_recover

    hostname = getattr(sender, "hostname", None)
    if hostname:
        tasks_recover(worker=hostname)
