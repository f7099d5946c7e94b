"""Celery tasks of the data app: thin wrappers around the records service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from .models import DataType
from .services import records_save

logger = logging.getLogger(__name__)


@shared_task(name="data.records_import")
def records_import(data_type_id: int, records: list) -> dict:
    """Store records in the background (``POST …/?async=1``); returns the counts."""
    data_type = DataType.objects.select_related("namespace").get(pk=data_type_id)
    result = records_save(data_type=data_type, records=records, source="api-async")
    for error in result.errors:
        logger.warning("%s: %s", data_type, error)
    summary = result.as_dict()
    logger.info(
        "%s: %s created, %s updated, %s unchanged, %s invalid",
        data_type,
        summary["created"],
        summary["updated"],
        summary["unchanged"],
        summary["invalid"],
    )
    return summary


def enqueue_records_import(*, data_type: DataType, records: list) -> str:
    """Enqueue once the caller's transaction commits; return the Celery task id."""
    from celery import uuid

    task_id = uuid()
    transaction.on_commit(
        lambda: records_import.apply_async((data_type.pk, records), task_id=task_id)
    )
    return task_id
