"""System checks: how user code is isolated here, and whether the limits make sense."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

BOUNDS = {
    "RUNNER_TIME_LIMIT_DEFAULT": (0.1, 3600),
    "RUNNER_TIME_LIMIT_MAX": (0.1, 3600),
    "RUNNER_MEMORY_MB": (64, 65536),
    "RUNNER_MAX_OUTPUT_MB": (1, 1024),
    "RUNNER_MAX_RECORDS_PER_CALL": (1, 1_000_000),
    "RUNNER_SPARES": (0, 64),
    "RUNNER_MAX_IDLE": (0, 256),
    "SYNC_WAIT_SECONDS": (0, 60),
}


@checks.register(checks.Tags.security)
def check_isolation(app_configs=None, **kwargs):
    from .services import isolation

    found = isolation()
    if found.complete:
        return []
    message = (
        f"User code runs in {found.mode} isolation"
        + (f" ({found.reason})" if found.reason else "")
        + f"; missing: {', '.join(found.missing)}."
    )
    hint = (
        "Install bubblewrap (Debian: apt-get install bubblewrap; `make run` does it as root). "
        "Without it, user code is still in separate processes with OS limits, a clean "
        "environment and no inherited descriptors, but it can read the files that the "
        "platform's user can read."
    )
    if settings.PRODUCTION and not settings.RUNNER_ALLOW_WEAK_ISOLATION:
        return [
            checks.Error(
                message,
                hint=hint + " To run anyway, set RUNNER_ALLOW_WEAK_ISOLATION=1.",
                id="runners.E001",
            )
        ]
    return [checks.Warning(message, hint=hint, id="runners.W001")]


@checks.register()
def check_limits(app_configs=None, **kwargs):
    errors = []
    for name, (low, high) in BOUNDS.items():
        value = getattr(settings, name)
        if not low <= value <= high:
            errors.append(
                checks.Error(f"{name} = {value} is outside {low}..{high}.", id="runners.E002")
            )
    if settings.RUNNER_TIME_LIMIT_DEFAULT > settings.RUNNER_TIME_LIMIT_MAX:
        errors.append(
            checks.Error(
                "RUNNER_TIME_LIMIT_DEFAULT is larger than RUNNER_TIME_LIMIT_MAX.", id="runners.E003"
            )
        )
    return errors
