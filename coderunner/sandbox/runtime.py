"""Running a compiled algorithm: fresh globals per run, a time limit, errors mapped to codes.

The time limit works in any thread (a Celery thread pool included): each run
installs a ``sys.settrace`` function on its own thread for its duration. The
call hook only returns a line tracer for frames of the user's code (their
filename is the algorithm's), so library code runs untraced; the line tracer
raises :class:`_Abort` once the deadline has passed. ``_Abort`` derives from
``BaseException``, which user code cannot name, so ``except Exception`` does
not catch it; and since CPython switches tracing off after a trace function
raises, every ``except`` and ``finally`` of the user's starts with
``_check_()`` (see ``policy.py``), which raises again past the deadline and
switches tracing back on if a RecursionError inside the tracer had turned it
off.

What the time limit cannot stop: one long call into C code, which runs no
user line — ``sum(range(10**12))`` (refused by the range guard),
``list(range(10**10))``, ``list(itertools.repeat(0))``, a catastrophic
regular expression, ``math.factorial(10**8)``, a huge ``decimal`` precision,
``hashlib.pbkdf2_hmac`` with 10**12 iterations. Those are stopped by the
process around this sandbox: the runner (``coderunner.server``) runs under OS
limits of CPU time and memory, and the platform kills it at its wall-clock
limit. This tracer is the first, friendlier layer: it names the user's line.
"""

from __future__ import annotations

import collections.abc
import decimal
import sys
import threading
import time
from dataclasses import dataclass
from types import CodeType, FrameType, FunctionType
from typing import Any

from .errors import LimitExceeded, NestedAlgorithmError, SandboxError, SandboxViolation
from .guards import (
    MAX_ITEMS,
    SAFE_BUILTINS,
    STATIC_GLOBALS,
    PrintCollector,
)
from .modules import random_module_factory

MAX_MESSAGE_CHARS = 1000
_RESULT_CHECK_EVERY = 1024


class Abort(BaseException):
    """Unwinds the user's code, uncatchable there (user code cannot name BaseException)."""


class _Abort(Abort):
    """The time limit passed (or the run is over)."""


@dataclass(frozen=True)
class RunResult:
    """What one run gave: the returned value, the printed text, the seconds it took."""

    value: Any
    output: str
    duration: float


# The clocks of the runs under way in this thread, outermost first (a run may call
# another through the api): ``paused()`` stops them all while the host answers a call.
_running = threading.local()


def _clocks() -> list[_Clock]:
    clocks = getattr(_running, "clocks", None)
    if clocks is None:
        clocks = _running.clocks = []
    return clocks


def waited() -> float:
    """Seconds this thread has spent in ``paused()`` blocks so far."""
    return getattr(_running, "waited", 0.0)


class paused:
    """``with paused(): ...`` — time spent inside (waiting for the host) does not count
    against the time limits of the runs under way."""

    def __enter__(self) -> None:
        self.started = time.monotonic()

    def __exit__(self, *exc_info: object) -> None:
        seconds = time.monotonic() - self.started
        _running.waited = waited() + seconds
        for clock in _clocks():
            clock.extend(seconds)


class _Clock:
    """The deadline of one run, and the trace functions that enforce it."""

    def __init__(self, filename: str, time_limit: float) -> None:
        self.deadline = time.monotonic() + time_limit
        self.expired = False
        self.finished = False
        self.line: int | None = None
        # A one-item list, read by the tracer on every line: the cheapest mutable cell.
        deadline = self._deadline = [self.deadline]
        monotonic = time.monotonic

        def trace_lines(frame, event, arg):
            if event == "line" and monotonic() > deadline[0]:
                self.expire(frame.f_lineno)
            return trace_lines

        def trace_calls(frame, event, arg):
            if frame.f_code.co_filename == filename:
                return trace_lines
            return None

        self.filename = filename
        self.trace_lines = trace_lines
        self.trace_calls = trace_calls

    def extend(self, seconds: float) -> None:
        self.deadline += seconds
        self._deadline[0] = self.deadline

    def expire(self, line: int | None) -> None:
        if not self.expired:
            self.expired = True
            self.line = line
        raise _Abort

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            self.expire(None)

    def checkpoint(self) -> None:
        """``_check_()``, the first statement of every user ``except`` and ``finally``."""
        caller = sys._getframe(1)
        if self.expired or self.finished or time.monotonic() > self.deadline:
            self.expire(caller.f_lineno)
        if sys.gettrace() is not self.trace_calls:
            # A RecursionError raised inside the tracer made CPython drop it: trace again.
            sys.settrace(self.trace_calls)
            frame: FrameType | None = caller
            while frame is not None:
                if frame.f_code.co_filename == self.filename and frame.f_trace is None:
                    frame.f_trace = self.trace_lines
                frame = frame.f_back


class CompiledAlgorithm:
    """An algorithm compiled once, run any number of times, from any threads at once.

    Each run gets fresh globals (its ``api``, its print buffer, its own
    ``random``), so runs share nothing but the immutable code.
    """

    def __init__(
        self,
        *,
        name: str,
        parameters: tuple[str, ...],
        code: CodeType,
        filename: str,
        loops: dict[int, int] | None = None,
    ) -> None:
        self.loops = loops or {}
        self.name = name
        self.parameters = parameters
        self.filename = filename
        self._code = code
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"<CompiledAlgorithm {self.name}({', '.join(self.parameters)})>"

    @property
    def last_output(self) -> str:
        """What the last run in the current thread printed (also after it failed)."""
        return getattr(self._local, "output", "")

    def run(self, *, arguments: dict[str, Any], api: Any = None, time_limit: float = 10.0) -> Any:
        """The value the algorithm returns; SandboxError when it fails or runs too long.

        Printed text is in :attr:`last_output` (per thread) and ``SandboxError.output``.
        """
        return self.execute(arguments=arguments, api=api, time_limit=time_limit).value

    def execute(
        self,
        *,
        arguments: dict[str, Any],
        api: Any = None,
        time_limit: float = 10.0,
        reported_limit: float | None = None,
    ) -> RunResult:
        """Like :meth:`run`, with the printed text and the duration.

        ``reported_limit`` is the limit the timeout message names, when ``time_limit``
        is what is left of a larger one (a lot of runs in one job)."""
        if not time_limit or time_limit <= 0:
            raise ValueError("time_limit must be a positive number of seconds")
        self._check_arguments(arguments)
        clock = _Clock(self.filename, time_limit)
        output = PrintCollector()
        namespace = dict(STATIC_GLOBALS)
        namespace.update(
            __builtins__=SAFE_BUILTINS,
            _print_=lambda _getattr_=None: output,
            _check_=clock.checkpoint,
            _random_=random_module_factory(),
            api=api,
        )
        function = FunctionType(self._code, namespace, self.name)
        started = time.monotonic()
        previous = sys.gettrace()
        clocks = _clocks()
        clocks.append(clock)
        try:
            try:
                sys.settrace(clock.trace_calls)
                with decimal.localcontext():  # getcontext().prec = 5 stays in this run
                    value = _materialize(function(**arguments), clock)
            finally:
                sys.settrace(previous)
                clock.finished = True
                clocks.remove(clock)
        except _Abort as abort:
            raise self._error(
                f"Time limit of {reported_limit or time_limit:g} s exceeded.",
                "timeout",
                abort,
                output,
                self.loops.get(clock.line, clock.line) if clock.line else None,
            ) from None
        except SandboxViolation as violation:
            raise self._error(_describe(violation), violation.code, violation, output) from None
        except MemoryError:
            raise  # the process's memory limit: the runner answers it, and retires
        except Exception as error:
            raise self._error(_describe(error), "runtime", error, output) from None
        finally:
            self._local.output = output()
        return RunResult(value=value, output=output(), duration=time.monotonic() - started)

    def _check_arguments(self, arguments: dict[str, Any]) -> None:
        missing = [name for name in self.parameters if name not in arguments]
        unknown = sorted(set(arguments) - set(self.parameters))
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing argument(s) {', '.join(missing)}")
            if unknown:
                parts.append(f"unknown argument(s) {', '.join(unknown)}")
            raise SandboxError(f"Algorithm {self.name}: {'; '.join(parts)}.", code="runtime")

    def _error(
        self,
        message: str,
        code: str,
        error: BaseException,
        output: PrintCollector,
        line: int | None = None,
    ) -> SandboxError:
        if line is None:
            line = _user_line(error, self.filename)
        return SandboxError(message, code=code, line=line, output=output())


def _materialize(value: Any, clock: _Clock) -> Any:
    """A returned generator or iterator, as a list, made within the time limit: the
    host must not run user code (a generator's body, a map's lambda) after the run."""
    if not isinstance(value, collections.abc.Iterator):
        return value
    items = []
    for item in value:
        items.append(item)
        if len(items) % _RESULT_CHECK_EVERY == 0:
            clock.check()
            if len(items) > MAX_ITEMS:
                raise LimitExceeded(f"The result has more than {MAX_ITEMS} items.")
    return items


def _describe(error: BaseException) -> str:
    try:
        text = str(error)
    except Exception:
        text = ""
    if isinstance(error, SandboxViolation | NestedAlgorithmError):
        described = text
    else:
        described = f"{type(error).__name__}: {text}" if text else type(error).__name__
    if len(described) > MAX_MESSAGE_CHARS:
        described = described[:MAX_MESSAGE_CHARS] + "…"
    return described


def _user_line(error: BaseException, filename: str) -> int | None:
    """The line of the innermost user frame the error passed through."""
    line = None
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == filename:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line
