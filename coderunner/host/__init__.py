"""The platform's side of the runners: starting them isolated, pooling them, talking to them.

Pure Python like the rest of ``coderunner`` (no Django): ``apps.runners``
configures a :class:`RunnerPool` from the settings.
"""

from .isolation import Isolation, Limits, detect
from .pool import RunnerPool
from .process import CallAbort, CallFailed, CallHandler, JobFailed, Runner, RunnerError

__all__ = [
    "CallAbort",
    "CallFailed",
    "CallHandler",
    "Isolation",
    "JobFailed",
    "Limits",
    "Runner",
    "RunnerError",
    "RunnerPool",
    "detect",
]
