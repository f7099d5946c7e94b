"""Scheduler expressions and their django-celery-beat periodic tasks.

``every 30s``, ``every 5m``, ``every 2h``, ``every 1d`` (cyclic) or
``cron M H DoM Mon DoW`` (appointed times, UTC). Each active scheduler has one
PeriodicTask that calls ``workflows.fire_scheduler`` with the event's id; it is
created, changed, enabled/disabled and deleted along with the scheduler.
"""

from __future__ import annotations

import json
import re

from celery.schedules import crontab
from django.core.exceptions import ValidationError
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

EVERY = re.compile(r"^every\s+(\d+)\s*(s|sec|seconds?|m|min|minutes?|h|hours?|d|days?)$", re.I)
UNITS = {
    "s": IntervalSchedule.SECONDS,
    "m": IntervalSchedule.MINUTES,
    "h": IntervalSchedule.HOURS,
    "d": IntervalSchedule.DAYS,
}
CRON_FIELD = re.compile(r"^[\d*/,\-]+$")
# The longest interval, per unit: a year (beat cannot compute dates far beyond that).
LONGEST = {"s": 366 * 86400, "m": 366 * 1440, "h": 366 * 24, "d": 366}
UNIT_NAMES = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_expression(expression: str) -> tuple[str, dict]:
    """('interval', {every, period}) or ('crontab', {minute, hour, ...}); else ValidationError."""
    text = (expression or "").strip()
    match = EVERY.match(text)
    if match:
        every, unit = int(match.group(1)), match.group(2)[0].lower()
        if not 1 <= every <= LONGEST[unit]:
            raise ValidationError(
                {"expression": f"{text!r}: the interval must be from 1 to {LONGEST[unit]} "
                 f"{UNIT_NAMES[unit]} (a year at most)."}
            )  # fmt: skip
        return "interval", {"every": every, "period": UNITS[unit]}
    parts = text.split()
    if parts and parts[0].lower() == "cron":
        fields = parts[1:]
        if len(fields) != 5:
            raise ValidationError(
                {"expression": f"{text!r}: cron needs 5 fields (minute hour day-of-month month "
                 f"day-of-week), not {len(fields)}."}
            )  # fmt: skip
        wrong = [f for f in fields if not CRON_FIELD.match(f)]
        if wrong:
            raise ValidationError(
                {"expression": f"{text!r}: {wrong[0]!r} is not a cron field: use digits, '*', "
                 "'/', ',' and '-', e.g. '*/5' or '1-5'."}
            )  # fmt: skip
        names = ["minute", "hour", "day_of_month", "month_of_year", "day_of_week"]
        options = dict(zip(names, fields, strict=True))
        try:  # the parser beat itself uses: ranges are checked (minute 0-59, …)
            crontab(**options)
        except ValueError as error:
            raise ValidationError({"expression": f"{text!r}: {error}"}) from None
        return "crontab", options
    raise ValidationError(
        {"expression": f"{text!r}: write 'every 5m' (s, m, h, d) or 'cron */5 * * * *'."}
    )


def sync_periodic_task(event) -> None:
    """Make the scheduler's PeriodicTask match it (creating it if needed)."""
    kind, options = parse_expression(event.expression)
    task = event.periodic_task or PeriodicTask()
    task.name = f"scheduler {event}"  # as the admin lists it: which scheduler is this?
    task.task = "workflows.fire_scheduler"
    task.args = json.dumps([event.pk])
    task.enabled = event.active
    task.description = f"Scheduler {event}: {event.expression}"
    if kind == "interval":
        task.interval, _ = IntervalSchedule.objects.get_or_create(**options)
        task.crontab = None
    else:
        task.crontab, _ = CrontabSchedule.objects.get_or_create(**options, timezone="UTC")
        task.interval = None
    task.save()
    if event.periodic_task_id != task.pk:
        type(event).objects.filter(pk=event.pk).update(periodic_task=task)
        event.periodic_task = task


def remove_periodic_task(event) -> None:
    if event.periodic_task_id:
        PeriodicTask.objects.filter(pk=event.periodic_task_id).delete()
