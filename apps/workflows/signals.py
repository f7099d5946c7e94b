"""Receivers: record writes go to the dispatcher, schedulers to celery-beat. Thin on purpose."""

from __future__ import annotations

from apps.data.models import Record

from .engine.dispatcher import dispatch


def remember_previous_data(sender, instance: Record, raw=False, **kwargs) -> None:
    """Before a plain ORM save, keep what was stored so observers can compare."""
    if raw or not instance.pk or hasattr(instance, "_previous_data"):
        return
    # Not a field: a transient attribute the post_save receiver reads and removes.
    instance._previous_data = (  # type: ignore[attr-defined]
        Record.objects.filter(pk=instance.pk).values_list("data", flat=True).first()
    )


def record_saved(sender, instance: Record, created: bool, raw=False, **kwargs) -> None:
    if raw:
        return
    previous = getattr(instance, "_previous_data", None)
    if hasattr(instance, "_previous_data"):
        del instance._previous_data
    if created or previous is None:
        dispatch(data_type=instance.data_type, created=[(instance.key, instance.data)], updated=[])
    elif previous != instance.data:
        dispatch(
            data_type=instance.data_type,
            created=[],
            updated=[(instance.key, instance.data, previous)],
        )


def records_saved(sender, event, **kwargs) -> None:
    dispatch(
        data_type=event.data_type,
        created=event.created,
        updated=event.updated,
        observers=event.observers,
    )


def event_saved(sender, instance, raw=False, **kwargs) -> None:
    from .engine.schedules import remove_periodic_task, sync_periodic_task

    if raw:
        return
    if instance.kind == instance.Kind.SCHEDULER:
        sync_periodic_task(instance)
    else:
        remove_periodic_task(instance)


def event_deleted(sender, instance, **kwargs) -> None:
    from .engine.schedules import remove_periodic_task

    remove_periodic_task(instance)
