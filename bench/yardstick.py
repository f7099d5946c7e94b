"""The yardstick of bench/engine.py's latency: two bare Celery hops, then the HTTP call.

A task that enqueues a second task that posts to system B: what any Celery
application pays for a change that travels through two tasks, with none of
the platform's work (records, observers, flows, task rows). The bench's
worker loads this module (``-I bench.yardstick``).
"""

from __future__ import annotations

import requests
from celery import shared_task


@shared_task(name="bench.hop_one")
def hop_one(url: str, ref: int) -> None:
    hop_two.delay(url, ref)


@shared_task(name="bench.hop_two")
def hop_two(url: str, ref: int) -> None:
    body = {"name": "yardstick", "email": "y@b.test", "ref": ref}
    requests.post(f"{url}/customers", json=body, timeout=30).raise_for_status()
