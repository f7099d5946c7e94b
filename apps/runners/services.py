"""The process's pool of code runners, configured from the settings, and running jobs in it.

Every execution of user code in the platform goes through :func:`run_job`:
algorithms (apps.workflows), Jinja2 templates and mappings (apps.workflows),
webhook templates (apps.gateway). The pool is made on first use in each
process (web, worker, CLI) and after a fork; :func:`prestart` warms it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings

from coderunner.host import CallHandler, Isolation, RunnerPool, detect

logger = logging.getLogger(__name__)

_pool: RunnerPool | None = None
_lock = threading.Lock()


def isolation() -> Isolation:
    """How runners are isolated on this machine (bubblewrap, or the weaker fallback)."""
    return detect(settings.RUNNER_ISOLATION)


def _config() -> dict[str, Any]:
    return {
        "memory_bytes": settings.RUNNER_MEMORY_MB << 20,
        "max_frame": settings.RUNNER_MAX_OUTPUT_MB << 20,
        "scratch_bytes": 16 << 20,
        "default_time_limit": settings.RUNNER_TIME_LIMIT_DEFAULT,
    }


def pool() -> RunnerPool:
    global _pool
    if _pool is None:
        with _lock:
            if _pool is None:
                found = isolation()
                if not found.complete:
                    logger.warning(
                        "User code runs with WEAKER isolation (%s): %s. Missing: %s. Install "
                        "bubblewrap (apt-get install bubblewrap) for the full sandbox.",
                        found.mode, found.reason or "see the system check runners.W001",
                        ", ".join(found.missing),
                    )  # fmt: skip
                _pool = RunnerPool(
                    mode=found.mode,
                    config=_config(),
                    spares=settings.RUNNER_SPARES,
                    max_idle=settings.RUNNER_MAX_IDLE,
                )
    return _pool


def prestart() -> None:
    """Start the spare runners in the background (worker and web processes at start):
    nothing here delays the process's own start, not even finding how to isolate."""

    def warm() -> None:
        try:
            pool().prestart()
        except Exception:  # a start-up nicety: the first job starts a runner anyway
            logger.warning("Could not prestart code runners", exc_info=True)

    threading.Thread(target=warm, name="coderunner-prestart", daemon=True).start()


def run_job(
    job: dict,
    *,
    namespace_id: int | None,
    time_limit: float | None = None,
    on_call: CallHandler | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Any:
    """Run one job in a runner of the namespace (runners are never shared between
    namespaces). Raises coderunner.host.JobFailed or RunnerError, or what ``on_call``
    aborted the job with. ``should_stop`` (a task's cancellation) is asked twice a
    second while the job runs; when it says so, the runner is killed."""
    limit = min(
        float(time_limit or settings.RUNNER_TIME_LIMIT_DEFAULT), settings.RUNNER_TIME_LIMIT_MAX
    )
    return pool().run(
        job,
        tenant=f"namespace:{namespace_id}",
        time_limit=limit,
        on_call=on_call,
        should_stop=should_stop,
    )
