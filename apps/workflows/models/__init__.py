"""The workflows app's models: translators, algorithms, events, flows and tasks."""

from .algorithms import Algorithm
from .events import Event, Observer, Scheduler
from .flows import Flow
from .tasks import Execution, Lock, Notification, Task
from .translators import Translator

__all__ = [
    "Algorithm",
    "Event",
    "Execution",
    "Flow",
    "Lock",
    "Notification",
    "Observer",
    "Scheduler",
    "Task",
    "Translator",
]
