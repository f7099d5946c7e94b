"""The beat scheduler: django-celery-beat's database scheduler, robust to bad rows.

An entry beat cannot schedule (an interval too large for a date, a row written
around the services) used to crash beat, and with it ``make run``, at every
start until the row was fixed by hand. This scheduler skips such an entry,
logs it, and tells the scheduler's namespace in a notification; the others go on.
"""

from __future__ import annotations

import logging

from django_celery_beat import schedulers

logger = logging.getLogger(__name__)


class DatabaseScheduler(schedulers.DatabaseScheduler):
    """``celery beat --scheduler apps.workflows.beat:DatabaseScheduler``."""

    def __init__(self, *args, **kwargs) -> None:
        self._reported: set[tuple] = set()
        super().__init__(*args, **kwargs)

    def all_as_schedule(self):
        entries = {}
        for model in self.enabled_models():
            try:
                entry = self.Entry(model, app=self.app)
                entry.is_due()  # what beat computes at every tick: fail here, not there
            except ValueError:
                continue  # as django-celery-beat does: a row without a schedule
            except Exception as error:
                self.report_unschedulable(model, error)
                continue
            entries[model.name] = entry
        return entries

    def report_unschedulable(self, model, error: Exception) -> None:
        """Log (and notify, once per change of the row) an entry that beat skips."""
        what = f"{type(error).__name__}: {error}"
        key = (model.pk, model.date_changed)
        logger.error("Beat skips periodic task %r, which it cannot schedule (%s)", model.name, what)
        if key in self._reported:
            return
        self._reported.add(key)
        from .models import Event
        from .services import notify

        event = Event.objects.filter(periodic_task_id=model.pk).select_related("namespace").first()
        if event is not None:
            notify(
                namespace=event.namespace,
                level="error",
                message=f"Scheduler {event} ({event.expression!r}) cannot be scheduled and does "
                f"not fire: {what}. Change its expression.",
            )
