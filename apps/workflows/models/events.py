"""Events: observers (a record was created or changed) and schedulers (time)."""

from __future__ import annotations

from typing import ClassVar

from django.core.exceptions import ValidationError
from django.db import models

from apps.data.models import DataType

from .algorithms import Algorithm
from .base import NamespacedElement, optional_element

OPERATORS = {
    "is",
    "is_not",
    "like",
    "starts_with",
    "ends_with",
    "in",
    "not_in",
    "between",
    "gt",
    "gte",
    "lt",
    "lte",
    "_null",
    "_not_null",
    "_change",
    "_presence_change",
}


class EventQuerySet(models.QuerySet):
    def active(self) -> EventQuerySet:
        return self.filter(active=True)

    def observers_of(self, data_type: DataType) -> EventQuerySet:
        return self.filter(kind=Event.Kind.OBSERVER, data_type=data_type, active=True)


class Event(NamespacedElement):
    """What starts flows: an *observer* of a data type's records or a *scheduler*.

    An observer fires for a record created and/or updated when all its
    ``conditions`` hold against the record and its previous state (Cenit's
    operators) and, when it has one, its trigger-evaluator algorithm returns true
    for ``record`` and ``previous``. A scheduler fires at intervals (``every 5m``)
    or at cron-like appointed times (``cron 0 6 * * 1-5``), through a
    django-celery-beat periodic task kept in sync with it.
    """

    class Kind(models.TextChoices):
        OBSERVER = "observer", "observer"
        SCHEDULER = "scheduler", "scheduler"

    kind = models.CharField("kind", max_length=20, choices=Kind.choices)
    active = models.BooleanField(
        "active", default=True, help_text="Inactive observers and schedulers start no flow."
    )
    # --- observer
    data_type = models.ForeignKey(
        DataType,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="data type",
        help_text="Observer: whose records are watched.",
    )
    on_created = models.BooleanField(
        "on created", default=True, help_text="Observer: fire for records created."
    )
    on_updated = models.BooleanField(
        "on updated", default=True, help_text="Observer: fire for records changed."
    )
    conditions = models.JSONField(
        "conditions",
        default=list,
        blank=True,
        help_text='Observer: all must hold, e.g. [{"field": "status", "op": "is", "value": '
        '"paid"}, {"field": "total", "op": "_change"}]. Operators: '
        + ", ".join(sorted(OPERATORS))
        + ".",
    )
    trigger_evaluator = optional_element(
        Algorithm,
        "trigger evaluator",
        "Observer: an algorithm given `record` and `previous` that returns true to fire.",
    )
    # --- scheduler
    expression = models.CharField(
        "expression",
        max_length=100,
        blank=True,
        help_text="Scheduler: 'every 30s', 'every 5m', 'every 2h', 'every 1d', or "
        "'cron M H D MON DOW' (minute, hour, day of month, month, day of week; UTC), "
        "e.g. 'cron 0 6 * * 1-5' for 06:00 on weekdays.",
    )
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = EventQuerySet.as_manager()

    class Meta(NamespacedElement.Meta):
        verbose_name = "event"

    def clean(self) -> None:
        if self.kind == self.Kind.OBSERVER:
            if not self.data_type_id:
                raise ValidationError({"data_type": "An observer watches a data type."})
            from ..engine.conditions import check_conditions

            check_conditions(self.conditions)
        elif self.kind == self.Kind.SCHEDULER:
            from ..engine.schedules import parse_expression

            parse_expression(self.expression)


class ObserverManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(kind=Event.Kind.OBSERVER)


class SchedulerManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(kind=Event.Kind.SCHEDULER)


class Observer(Event):
    # A proxy's manager narrows its parent's to one kind: not a subtype, on purpose.
    objects: ClassVar[ObserverManager[Observer]] = ObserverManager()  # type: ignore[assignment]

    class Meta:
        proxy = True
        verbose_name = "observer"

    def __init__(self, *args, **kwargs):
        # Set before validation: clean() checks what this kind of event needs.
        super().__init__(*args, **kwargs)
        self.kind = Event.Kind.OBSERVER


class Scheduler(Event):
    # Narrows Event's manager to schedulers, as Observer's does.
    objects: ClassVar[SchedulerManager[Scheduler]] = SchedulerManager()  # type: ignore[assignment]

    class Meta:
        proxy = True
        verbose_name = "scheduler"

    def __init__(self, *args, **kwargs):
        # Set before validation: clean() checks what this kind of event needs.
        super().__init__(*args, **kwargs)
        self.kind = Event.Kind.SCHEDULER
