"""Celery tasks of the gateway: thin, they call a service."""

from celery import shared_task

from .services import request_logs_prune


@shared_task(name="gateway.prune_request_logs")
def prune_request_logs() -> int:
    """Beat runs this daily (CELERY_BEAT_SCHEDULE): drop request log rows past retention."""
    return request_logs_prune()
