"""A task's life: take its lock, run an attempt, record the outcome.

* The lock is a row update (``locked_until`` in the future, ``lock_owner`` a
  fresh token): two workers never run a task at once, and a lock left by a
  dead worker expires, so the message redelivered by the broker can run it.
  Long runs extend the lock whenever they report progress.
* An attempt is an :class:`Execution`. A failure becomes ``retrying`` (enqueued
  again with exponential backoff) while attempts remain, else ``failed``, with
  a notification that says what failed and where.
* ``run_again`` (algorithms working in lots) ends the attempt successfully and
  enqueues the task again with its saved ``state``.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import random
import threading
import time
import traceback
import uuid
import weakref
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from apps.data.definitions import element, one_read
from apps.data.upsert import converted_values, fast_cursor

from ..models import Algorithm, Execution, Flow, Task
from .dispatcher import events_discarded

logger = logging.getLogger(__name__)

LOCK_SECONDS = 120
# Progress is written at most this often (a write per page cost an import 5%);
# the heartbeat keeps the lock meanwhile, and a cancellation is seen at the next write.
PROGRESS_SECONDS = 1.0
RETRY_BASE_SECONDS = 5
RETRY_MAX_SECONDS = 600


def _attach_definitions(task: Task) -> None:
    """The task's flow or algorithm, with every element it uses, as the definitions cache
    has them (shared while the definitions hold: read only)."""
    if task.flow_id:
        flow = element(Flow, task.flow_id)
        if flow is not None:
            task.flow = flow
    if task.algorithm_id:
        algorithm = element(Algorithm, task.algorithm_id)
        if algorithm is not None:
            task.algorithm = algorithm


class RunAgain(Exception):
    """Raised by ``task.run_again()``: save the state and enqueue the task again."""


class Cancelled(Exception):
    """The task was cancelled while it ran."""


def _snapshot(state: Any) -> str:
    return json.dumps(state, sort_keys=True, default=str)


class TaskContext:
    """What running code may do with its task: state, progress, run again, notify."""

    def __init__(self, task: Task, execution: Execution, token: str) -> None:
        self.task = task
        self.execution = execution
        self.token = token
        self.state: dict[str, Any] = task.state if isinstance(task.state, dict) else {}
        self._stored_state = _snapshot(self.state)
        self._run_again = False
        # A task done within PROGRESS_SECONDS writes no progress but its end's 100%.
        self._progress_written = time.monotonic()
        self._cancel_checked = time.monotonic()

    def save_state(self) -> None:
        """Store the state (a no-op when it is as last stored: nothing to write)."""
        stored = _snapshot(self.state)
        if stored != self._stored_state:
            Task.objects.filter(pk=self.task.pk, lock_owner=self.token).update(state=self.state)
            self._stored_state = stored

    def progress(self, percent: float) -> None:
        """Report progress, extend the lock, and stop if the task was cancelled.

        Reports closer together than PROGRESS_SECONDS (or sooner after the start)
        are not written: the next one written carries the latest figure."""
        percent = max(0.0, min(100.0, float(percent)))
        now = time.monotonic()
        if now - self._progress_written < PROGRESS_SECONDS:
            return
        self._progress_written = now
        updated = (
            Task.objects.filter(pk=self.task.pk, lock_owner=self.token)
            .exclude(status=Task.Status.CANCELLED)
            .update(progress=percent, locked_until=timezone.now() + timedelta(seconds=LOCK_SECONDS))
        )
        if not updated:
            raise Cancelled(f"Task #{self.task.pk} was cancelled.")

    def run_again(self) -> None:
        self._run_again = True

    def cancelled(self) -> bool:
        """Whether the task was cancelled: its code's runner asks twice a second while the
        code runs (run_job's ``should_stop``), and is killed when it was. A look that
        fails says no: the next may succeed, and the time limit holds anyway."""
        try:
            return _was_cancelled(self.task.pk)
        except Exception:
            logger.warning("Could not look whether task #%s was cancelled", self.task.pk)
            return False

    def check_cancelled(self, *, now: bool = True) -> None:
        """Raise Cancelled if the task was cancelled: before every write its code asks
        for (``now``), at most twice a second before reads. A cancelled task's code
        writes nothing more, and its runner is stopped (:meth:`cancelled`)."""
        moment = time.monotonic()
        if not now and moment - self._cancel_checked < 0.5:
            return
        self._cancel_checked = moment
        if _was_cancelled(self.task.pk):
            raise Cancelled(f"Task #{self.task.pk} was cancelled.")

    def notify(self, message: str, level: str = "info", attachment: Any = None) -> None:
        from ..services import notify

        notify(
            namespace=self.task.namespace_id,
            level=level,
            message=message,
            attachment=attachment,
            task=self.task,
            execution=self.execution,
        )


def _acquire(
    task_id: int, token: str, worker: str = "", *, held: bool = False
) -> tuple[Task, Execution] | None:
    """Lock the task for this attempt if it is free to run, and start the attempt (its
    Execution row); the task as locked with its attempt, or None.

    On the path of every change travelling through the engine, so as few round trips as
    the database allows: on PostgreSQL one statement takes the lock, creates the attempt
    and reads the task and the definitions token (four round trips before; a worker's
    follow-on is even taken in its maker's end, see _end); SQLite, which has no writes in
    WITH, takes the lock and reads in one and creates the attempt in a second, in one
    transaction. ``held``: the task may be one held for its maker's worker (see
    FollowOns), which is given it."""
    now = timezone.now()
    params = _lock_params(task_id, token, held, now)
    worker = worker[:100]
    if connection.vendor == "postgresql":
        ctes, select = _acquire_sql()
        with fast_cursor(connection) as cursor:
            cursor.execute(f"WITH {ctes} {select}", params + _attempt_params(worker, now))
            row = cursor.fetchone()
        if row is None:
            return None
        return _acquired(row, worker, now)
    adapt = connection.ops.adapt_datetimefield_value
    locking, starting = _acquire_sqlite_sql()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(locking, params)
        row = cursor.fetchone()
        if row is None:
            return None
        *values, token_read = row
        cursor.execute(
            starting, [task_id, values[_ATTEMPTS], Task.Status.RUNNING, adapt(now), worker]
        )
        (execution_id,) = cursor.fetchone()
    return _acquired([*values, token_read, execution_id], worker, now)


def _lock_params(task_id: int, token: str, held: bool, now) -> list:
    adapt = connection.ops.adapt_datetimefield_value
    return [
        Task.Status.RUNNING, token, adapt(now + timedelta(seconds=LOCK_SECONDS)), adapt(now),
        task_id, Task.Status.PENDING, Task.Status.RETRYING, Task.Status.RUNNING, adapt(now),
        HELD if held else "-",
    ]  # fmt: skip


def _attempt_params(worker: str, now) -> list:
    return [Task.Status.RUNNING, connection.ops.adapt_datetimefield_value(now), worker]


def _acquired(row, worker: str, now) -> tuple[Task, Execution]:
    """The task and its attempt from the columns _acquire's statement returns."""
    *values, token_read, execution_id = row
    task = _task_from_row(values)
    task.definitions = token_read  # type: ignore[attr-defined]
    execution = Execution(
        pk=execution_id, task=task, attempt=task.attempts, status=Task.Status.RUNNING,
        started_at=now, worker=worker,
    )  # fmt: skip
    execution._state.adding = False
    return task, execution


_TASK = connection.ops.quote_name(Task._meta.db_table)
_EXECUTION = connection.ops.quote_name(Execution._meta.db_table)
_TASK_FIELDS = Task._meta.concrete_fields
_ATTEMPTS = [field.attname for field in _TASK_FIELDS].index("attempts")


_LOCK = (
    f"UPDATE {_TASK} SET status = %s, lock_owner = %s, "  # noqa: S608 (names are the model's)
    "locked_until = %s, attempts = attempts + 1, updated_at = %s "
    "WHERE id = %s AND status IN (%s, %s, %s) AND (locked_until IS NULL OR locked_until < %s "
    "OR lock_owner = %s) "
)
_DEFINITIONS = "(SELECT token FROM data_definitions WHERE id = 1)"
_STARTED = "(task_id, attempt, status, started_at, finished_at, error, traceback, worker)"


@functools.cache
def _acquire_sql() -> tuple[str, str]:
    """PostgreSQL's statement of _acquire, built once, in two parts: its WITH queries
    (the lock, the attempt) and its SELECT, so that _end can put them in its own."""
    columns = ", ".join(connection.ops.quote_name(field.column) for field in _TASK_FIELDS)
    ctes = (
        f"locked AS ({_LOCK}RETURNING {columns}), attempt AS ("  # noqa: S608
        f"INSERT INTO {_EXECUTION} {_STARTED} SELECT id, attempts, %s, %s, NULL, '', '', %s "
        "FROM locked RETURNING id)"
    )
    select = (
        f"SELECT {columns}, {_DEFINITIONS} AS definitions_token, "  # noqa: S608
        "(SELECT id FROM attempt) AS attempt_id FROM locked"
    )
    return ctes, select


@functools.cache
def _acquire_sqlite_sql() -> tuple[str, str]:
    columns = ", ".join(connection.ops.quote_name(field.column) for field in _TASK_FIELDS)
    locking = f"{_LOCK}RETURNING {columns}, {_DEFINITIONS}"
    starting = (
        f"INSERT INTO {_EXECUTION} {_STARTED} "  # noqa: S608
        "VALUES (%s, %s, %s, %s, NULL, '', '', %s) RETURNING id"
    )
    return locking, starting


def _task_from_row(values: list) -> Task:
    names = [field.attname for field in _TASK_FIELDS]
    return Task.from_db(connection.alias, names, converted_values(Task, names, values, connection))


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter: ~5 s, 10 s, 20 s… capped at 10 minutes."""
    base = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempt - 1))
    return base * random.uniform(0.8, 1.2)


def describe(error: BaseException) -> str:
    message = str(error) or type(error).__name__
    return (
        message
        if hasattr(error, "code") or "Error" in message
        else (f"{type(error).__name__}: {message}")
    )


# Failures that another attempt cannot mend: fail at once instead of retrying.
PERMANENT_CODES = {
    "syntax", "forbidden", "import", "missing_argument", "unknown_argument", "invalid_argument",
    "missing_placeholder", "template_error", "denied_destination", "unsupported_url",
    "no_connection", "not_authorized", "incomplete_flow", "unknown_reference", "cross_namespace",
    "records_path",
}  # fmt: skip
TRANSIENT_STATUSES = {408, 425, 429}


def transient(error: BaseException) -> bool:
    """Could a retry succeed? No for bad definitions and for HTTP 4xx answers (but 408/429)."""
    seen: BaseException | None = error
    while seen is not None:
        if getattr(seen, "code", None) in PERMANENT_CODES:
            return False
        status = getattr(seen, "status", None)
        if isinstance(status, int) and 400 <= status < 500 and status not in TRANSIENT_STATUSES:
            return False
        seen = seen.__cause__
    return True


class Heartbeats:
    """Keeps running tasks' locks alive, so that only a dead worker's lock expires.

    Progress reports extend the lock too, but user code may run long without
    reporting; without this, a second delivery of its message could take the
    expired lock and run the task twice at once. One thread per process beats for
    every task running in it (starting a thread per task cost each task ~1 ms
    before its work began); it starts with the first task and lives as long as
    the process (a daemon).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # task id -> (lock token, when its lock was last extended: monotonic seconds)
        self._running: dict[int, tuple[str, float]] = {}
        self._thread: threading.Thread | None = None

    def add(self, task_id: int, token: str) -> None:
        with self._lock:
            self._running[task_id] = (token, time.monotonic())  # _acquire has just locked it
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="task-heartbeats", daemon=True
                )
                self._thread.start()

    def discard(self, task_id: int, token: str) -> None:
        with self._lock:
            if self._running.get(task_id, ("",))[0] == token:
                del self._running[task_id]

    def beat(self) -> None:
        """Extend the lock of every task of this process whose lock is a quarter through."""
        now = time.monotonic()
        with self._lock:
            due = [(task_id, token) for task_id, (token, extended) in self._running.items()
                   if now - extended >= LOCK_SECONDS / 4]  # fmt: skip
        if not due:
            return
        try:
            for task_id, token in due:
                try:
                    Task.objects.filter(pk=task_id, lock_owner=token).update(
                        locked_until=timezone.now() + timedelta(seconds=LOCK_SECONDS)
                    )
                except Exception:  # the next beat may succeed; the task goes on regardless
                    logger.warning("Heartbeat of task #%s failed", task_id, exc_info=True)
                    continue
                with self._lock:
                    if self._running.get(task_id, ("",))[0] == token:
                        self._running[task_id] = (token, now)
        finally:
            connection.close()  # this thread's own connection: none kept between beats

    def _run(self) -> None:
        while True:
            time.sleep(min(HOLD_SECONDS, LOCK_SECONDS / 4))  # a query only when due
            for follow_ons in list(_holders):
                try:
                    follow_ons.send_overdue(time.monotonic())
                except Exception:  # the broker is down: the recovery sends it later
                    logger.warning("Sending a held task failed", exc_info=True)
            self.beat()


heartbeats = Heartbeats()


def task_run(
    task_id: int, *, worker: str = "", held: bool = False, follow: bool = False
) -> str | None:
    """Run one attempt of a task if it is free to run; return its new status.

    ``follow`` (a worker's job): the first task this one starts through an observer is
    held for this worker and run right after it, without a trip through the broker (see
    FollowOns); and so on down the chain."""
    return _run_one(task_id, worker, held, FollowOns() if follow else None)


def _run_one(task_id: int, worker: str, held: bool, follow_ons: FollowOns | None) -> str | None:
    """Run the task, then the follow-ons down its chain (each taken in its maker's end)."""
    acquired = _acquire(task_id, uuid.uuid4().hex, worker, held=held)
    if acquired is None:
        logger.info("Task #%s is running elsewhere or finished; skipped", task_id)
        return None
    first: str | None = None
    while acquired is not None:
        task, execution = acquired
        # _acquire read the definitions token with the task.
        with one_read(task.definitions):  # type: ignore[attr-defined]
            held_token = _holding.set(follow_ons)
            try:
                status = _run_locked(task, execution, task.lock_owner, follow_ons)
            finally:
                _holding.reset(held_token)
        first = status if first is None else first
        acquired = follow_ons.taken if follow_ons is not None else None
        if follow_ons is not None:
            follow_ons.taken = None
    return first


HELD = "held"  # the lock owner of a task held for the worker of the task that started it
# How long a follow-on is held before it is sent through the broker after all.
HOLD_SECONDS = 1.0


class FollowOns:
    """The follow-on a worker's task holds: the first task it starts through an observer
    (the export of what a conversion stored, say) is not sent through the broker but run by
    this worker right after the task ends — a change travels A → B → C without waiting on
    the broker at each hop (bench/engine.py, latency). Only one: a task that starts more
    (a big conversion's lots) sends the held one and the rest through the broker, to run
    in parallel; so does one that runs on for HOLD_SECONDS after it (the heartbeat thread
    sends it).

    A held task is stored pending with the lock owner ``held`` and a lock that expires
    like any other: if this worker dies before it runs it, the periodic recovery
    (``tasks_recover``) sends it once its lock has expired."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: tuple[int, float] | None = None  # (task id, when held: monotonic)
        self._claimed = False  # the first follow-on of this task is being created
        self._full = False  # a second one came: nothing more is held for this task
        # The held one as its maker's end took it, to run next: (task, attempt).
        self.taken: tuple[Task, Execution] | None = None

    def claim(self) -> bool:
        """May the follow-on being created be held? Yes for the first one only."""
        with self._lock:
            if self._claimed or self._full:
                return False
            self._claimed = True
            return True

    def hold(self, task_id: int) -> None:
        """Keep ``task_id`` (committed, locked as held) to run after this task."""
        with self._lock:
            if not self._full:
                self._held = (task_id, time.monotonic())
                _holders.add(self)
                return
        _send_held(task_id)

    def refuse(self) -> None:
        """Another follow-on: send the held one now, and hold nothing more."""
        with self._lock:
            self._full = True
            held, self._held = self._held, None
        if held is not None:
            _send_held(held[0])

    def take(self) -> int | None:
        """The held task to run now (its maker has ended); the next one starts afresh."""
        with self._lock:
            held, self._held, self._claimed, self._full = self._held, None, False, False
        _holders.discard(self)
        return held[0] if held else None

    def send_overdue(self, now: float) -> None:
        with self._lock:
            held = self._held
            if held is None or now - held[1] < HOLD_SECONDS:
                return
            self._held, self._full = None, True
        _send_held(held[0])


def _send_held(task_id: int) -> None:
    from ..tasks import run_task

    run_task.apply_async((task_id,), {"held": True})


_holding: contextvars.ContextVar[FollowOns | None] = contextvars.ContextVar(
    "follow_ons", default=None
)
_holders: weakref.WeakSet[FollowOns] = weakref.WeakSet()


def holding() -> FollowOns | None:
    """The follow-ons of the worker's task running in this context, if any."""
    return _holding.get()


def _run_locked(
    task: Task, execution: Execution, token: str, follow_ons: FollowOns | None = None
) -> str | None:
    _attach_definitions(task)
    context = TaskContext(task, execution, token)
    from .execute import execute_task

    status, fields, error_text, trace = Task.Status.COMPLETED, {}, "", ""
    heartbeats.add(task.pk, token)
    try:
        discard = bool(task.flow and task.flow.discard_events)
        with events_discarded(discard):
            try:
                result = execute_task(task, context)
            finally:
                heartbeats.discard(task.pk, token)
        if context._run_again:
            raise RunAgain
        fields = {"result": result, "progress": 100.0}
    except RunAgain:
        status = Task.Status.PENDING
    except Cancelled as error:
        status, error_text = Task.Status.CANCELLED, str(error)
    except Exception as error:
        if _was_cancelled(task.pk):  # it failed after, or because, it was cancelled
            return _end(task, execution, token, context, Task.Status.CANCELLED,
                        f"Task #{task.pk} was cancelled.", {}, "", follow_ons)  # fmt: skip
        error_text = describe(error)
        # A user's task failing is not the platform failing: one line in the worker's log;
        # the traceback is kept with the execution, for operators (not for API users).
        trace = traceback.format_exc()
        logger.warning(
            "Task #%s attempt %s failed: %s", task.pk, task.attempts, " ".join(error_text.split())
        )
        may_retry = task.attempts < task.max_attempts
        retry = may_retry and transient(error)
        status = Task.Status.RETRYING if retry else Task.Status.FAILED
        detail = getattr(error, "detail", None)
        if retry:
            outcome = " — it will be retried."
        elif may_retry:
            outcome = (" — not retried: another attempt would fail the same way (a 4xx "
                       "answer or a problem of the definitions).")  # fmt: skip
        else:
            outcome = ""
        context.notify(
            f"{task.description or 'Task'} failed (attempt {task.attempts} of "
            f"{task.max_attempts}): {error_text}" + outcome,
            level="warning" if retry else "error",
            attachment={"error": error_text, "detail": detail},
        )
    return _end(task, execution, token, context, status, error_text, fields, trace, follow_ons)


def _was_cancelled(task_id: int) -> bool:
    status = Task.objects.filter(pk=task_id).values_list("status", flat=True).first()
    return status == Task.Status.CANCELLED


def _updates(
    *statements: tuple[str, list], then: tuple[int, str, str] | None = None
) -> tuple[int, tuple | None]:
    """Run UPDATE statements as one statement on PostgreSQL (all but the last in WITH), in
    one transaction elsewhere: the number of rows the last one changed, and with ``then``
    (task id, lock token, worker: a follow-on to take, PostgreSQL only) _acquire's row for
    it, or None."""
    if connection.vendor == "postgresql":
        steps = [f"step{n} AS ({sql})" for n, (sql, _) in enumerate(statements[:-1])]
        params = [param for _, step in statements for param in step]
        last = statements[-1][0]
        if then is not None:
            now = timezone.now()
            task_id, token, worker = then
            ctes, select = _acquire_sql()
            steps += [f"ended AS ({last} RETURNING 1)", ctes]
            sql = (
                f"WITH {', '.join(steps)} SELECT (SELECT count(*) FROM ended), taken.* "  # noqa: S608
                f"FROM (SELECT 1) AS one LEFT JOIN ({select}) AS taken ON true"
            )
            params += _lock_params(task_id, token, True, now) + _attempt_params(worker, now)
            with fast_cursor(connection) as cursor:
                cursor.execute(sql, params)
                count, *row = cursor.fetchone()
            return count, (row if row[0] is not None else None)
        with fast_cursor(connection) as cursor:
            cursor.execute(f"WITH {', '.join(steps)} {last}", params)
            return cursor.rowcount, None
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
        return cursor.rowcount, None


@functools.cache
def _end_sql(with_result: bool) -> tuple[str, str]:
    """_end's statements, built once: the attempt ended; the task released unless it was
    cancelled meanwhile (by hand: the ORM's updates took a millisecond to build)."""
    ended = (
        f"UPDATE {_EXECUTION} SET status = %s, finished_at = %s, error = %s, "  # noqa: S608
        "traceback = %s WHERE id = %s"
    )
    released = (
        f"UPDATE {_TASK} SET status = %s, state = %s, lock_owner = '', "  # noqa: S608
        "locked_until = NULL, finished_at = %s, updated_at = %s"
        + (", result = %s, progress = %s" if with_result else "")
        + " WHERE id = %s AND lock_owner = %s AND status <> %s"
    )
    return ended, released


def _end(
    task, execution, token, context, status, error_text, fields, trace, follow_ons=None
) -> str | None:
    """Record the attempt's outcome and release the lock; enqueue again when due. A
    follow-on held for this worker is taken (locked, its attempt started) in the same
    statement on PostgreSQL, and left in ``follow_ons.taken`` to run next."""
    finished = timezone.now()
    final = status in {Task.Status.COMPLETED, Task.Status.FAILED, Task.Status.CANCELLED}
    follow_on = follow_ons.take() if follow_ons is not None else None
    worker = execution.worker
    then = (follow_on, uuid.uuid4().hex, worker) if follow_on is not None else None
    if connection.vendor != "postgresql":
        then = None
    adapt = connection.ops.adapt_datetimefield_value
    ended, released = _end_sql(bool(fields))
    json_value = Task._meta.get_field("state").get_db_prep_save
    released_params = [status, json_value(context.state, connection),
                       adapt(finished) if final else None, adapt(finished)]  # fmt: skip
    if fields:
        released_params += [json_value(fields["result"], connection), fields["progress"]]
    updated, row = _updates(
        (ended, [status, adapt(finished), error_text[:10000], trace[-20000:], execution.pk]),
        (released, [*released_params, task.pk, token, Task.Status.CANCELLED]),
        then=then,
    )
    if follow_ons is not None and follow_on is not None:
        if then is None:  # SQLite: taken on its own
            follow_ons.taken = _acquire(follow_on, uuid.uuid4().hex, worker, held=True)
        elif row is not None:
            follow_ons.taken = _acquired(row, worker, timezone.now())
        else:
            logger.info("Task #%s is running elsewhere or finished; skipped", follow_on)
    if not updated:  # cancelled meanwhile: keep that, release the lock
        Task.objects.filter(pk=task.pk, lock_owner=token).update(lock_owner="", locked_until=None)
        return Task.Status.CANCELLED
    if status == Task.Status.PENDING:
        from ..services import _enqueue

        _enqueue(task)
    elif status == Task.Status.RETRYING:
        from ..services import _enqueue

        _enqueue(task, countdown=backoff(task.attempts))
    return status
