"""Tasks, their executions (attempts), and notifications."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.data.models import Namespace


class TaskQuerySet(models.QuerySet):
    def unfinished(self) -> TaskQuerySet:
        return self.filter(status__in=Task.UNFINISHED)

    def update(self, **fields):
        """Every change of a task moves its ``updated_at`` (auto_now only works on save()).

        The engine changes tasks with queryset updates (locks, status, state); without this
        a task's ``updated_at`` stayed at its creation, clients polling on it saw nothing, and
        the scheduler took a task re-queued by run_again for a stale one.
        """
        if "updated_at" not in fields and set(fields) - {"locked_until"}:
            fields["updated_at"] = timezone.now()
        return super().update(**fields)


class Task(models.Model):
    """A long job (Cenit's task): a flow run, an algorithm run, a data import, a submission.

    A task runs as a Celery job; each attempt is an :class:`Execution`. It keeps
    a JSON ``state`` between attempts, so work done in lots (``run_again``)
    resumes where it stopped after a crash. A lock with an expiry makes sure a
    task never runs twice at once, even if a worker dies holding it.
    """

    class Kind(models.TextChoices):
        FLOW = "flow_execution", "flow execution"
        ALGORITHM = "algorithm_execution", "algorithm execution"
        DATA_IMPORT = "data_import", "data import"
        SUBMISSION = "submission", "submission"

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        RUNNING = "running", "running"
        COMPLETED = "completed", "completed"
        FAILED = "failed", "failed"
        RETRYING = "retrying", "retrying"
        BROKEN = "broken", "broken"
        PAUSED = "paused", "paused"
        CANCELLED = "cancelled", "cancelled"

    UNFINISHED = [Status.PENDING, Status.RUNNING, Status.RETRYING, Status.PAUSED]

    namespace = models.ForeignKey(
        Namespace,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="namespace",
        help_text="The namespace of the flow or algorithm run.",
    )
    kind = models.CharField("kind", max_length=30, choices=Kind.choices)
    status = models.CharField(
        "status", max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    description = models.CharField("description", max_length=300, blank=True)
    flow = models.ForeignKey(
        "workflows.Flow", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    algorithm = models.ForeignKey(
        "workflows.Algorithm",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    input = models.JSONField(
        "input", default=dict, blank=True, help_text="What to process: record keys, arguments."
    )
    state = models.JSONField(
        "state", default=dict, blank=True, help_text="Kept between attempts and runs again."
    )
    result = models.JSONField("result", null=True, blank=True)
    progress = models.FloatField("progress %", default=0)
    attempts = models.PositiveIntegerField("attempts", default=0)
    max_attempts = models.PositiveSmallIntegerField("max attempts", default=1)
    lock_owner = models.CharField(max_length=100, blank=True, editable=False)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who started it (empty: an event).",
    )
    created_at = models.DateTimeField("created", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField("updated", auto_now=True)
    finished_at = models.DateTimeField("finished", null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "task"
        indexes = [models.Index(fields=["flow", "status"], name="workflows_task_flow_status")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.description or self.kind} ({self.status})"


class Execution(models.Model):
    """One attempt of a task."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="executions")
    attempt = models.PositiveIntegerField("attempt")
    status = models.CharField("status", max_length=20, choices=Task.Status.choices)
    started_at = models.DateTimeField("started", auto_now_add=True)
    finished_at = models.DateTimeField("finished", null=True, blank=True)
    error = models.TextField("error", blank=True)
    traceback = models.TextField(
        "traceback", blank=True, help_text="Where the platform's code was when it failed."
    )
    worker = models.CharField("worker", max_length=100, blank=True)

    class Meta:
        ordering = ["task", "attempt"]
        verbose_name = "execution"

    def __str__(self) -> str:
        return f"task #{self.task_id} attempt {self.attempt}: {self.status}"


class Notification(models.Model):
    """A message for the users of a namespace: what happened, how bad, and where."""

    class Level(models.TextChoices):
        INFO = "info", "info"
        NOTICE = "notice", "notice"
        WARNING = "warning", "warning"
        ERROR = "error", "error"

    namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="+")
    level = models.CharField("level", max_length=10, choices=Level.choices, db_index=True)
    message = models.TextField("message")
    attachment = models.JSONField(
        "attachment", null=True, blank=True, help_text="Details: a request, a response, errors."
    )
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    execution = models.ForeignKey(
        Execution, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("created", auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "notification"

    def __str__(self) -> str:
        return f"[{self.level}] {self.message[:80]}"


class Lock(models.Model):
    """A named lock of a namespace that algorithms take (``api.lock``), across workers.

    It serializes work on one thing — e.g. the export of one record, so that two
    changes arriving close together never create it twice remotely. A lock whose
    holder died expires.
    """

    namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField("name", max_length=300)
    owner = models.CharField("owner", max_length=64)
    expires_at = models.DateTimeField("expires at")

    class Meta:
        verbose_name = "lock"
        constraints = [
            models.UniqueConstraint(fields=["namespace", "name"], name="workflows_lock_unique")
        ]

    def __str__(self) -> str:
        return self.name
