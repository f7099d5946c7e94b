"""One runner process, seen from the platform: start it, give it a job, answer its calls.

The platform never waits on a runner without a deadline: every read and write
goes through ``poll`` with what is left of the job's time limit (time spent
answering the runner's calls does not count). Past it, or on a frame that
breaks the protocol, the runner is killed — its whole sandbox with it — and
the job is a :class:`RunnerError` that says why.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from typing import Any

from ..protocol import HEADER, ProtocolError, decode, encode, encode_fast
from ..server import EXIT_MEMORY
from .isolation import Command, command

# How often a running job asks its caller whether to stop (Runner.call's should_stop).
STOP_POLL_SECONDS = 0.5


class RunnerError(Exception):
    """A job ended without an answer of its own: ``timeout``, ``memory``, ``output_limit``,
    ``crashed``, ``protocol``, ``start_failed`` or ``stopped`` (its caller's ``should_stop``
    said so: the task was cancelled)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message, self.code = message, code


class JobFailed(Exception):
    """The user's code failed (or did not compile): the runner's error, as it sent it."""

    def __init__(self, error: dict) -> None:
        self.message = str(error.get("message", "failed"))
        self.code = str(error.get("code", "runtime"))
        line = error.get("line")
        self.line = line if isinstance(line, int) else None
        self.output = str(error.get("output", ""))
        self.field = error.get("field") if isinstance(error.get("field"), str) else None
        cause = error.get("cause")
        self.cause = cause if isinstance(cause, dict) else None
        super().__init__(f"line {self.line}: {self.message}" if self.line else self.message)


class CallFailed(Exception):
    """Raised by a call handler: the call is refused; user code gets an exception it may catch."""

    def __init__(
        self, message: str, *, code: str = "api_error", kind: str = "APIError", status=None
    ) -> None:
        super().__init__(message)
        self.answer = {"message": message, "code": code, "type": kind, "status": status}


class CallAbort(Exception):
    """Raised by a call handler: end the job now; ``error`` is raised once the runner stops."""

    def __init__(self, error: BaseException, *, code: str = "aborted") -> None:
        super().__init__(str(error))
        self.error, self.code = error, code


CallHandler = Callable[[str, dict], Any]


class Runner:
    """A runner process and its pipes."""

    def __init__(self, *, mode: str, config: dict, start_timeout: float = 10.0) -> None:
        self.mode, self.config, self.start_timeout = mode, config, start_timeout
        self.max_frame = int(config.get("max_frame", 16 << 20)) + (1 << 20)
        self.process: subprocess.Popen | None = None
        self.command: Command | None = None
        self.info: dict = {}
        self.jobs = 0
        self.retired = False
        self.delivered = False
        self.killed_for: str | None = None
        self._should_stop: Callable[[], bool] | None = None
        self.owner_pid = os.getpid()

    # Life ---------------------------------------------------------------

    def start(self) -> Runner:
        self.command = command(self.mode, self.config)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            self.command.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env={},
            cwd=self.command.cwd,
            close_fds=True,
            start_new_session=True,
        )
        assert self.process.stdin and self.process.stdout
        self._out = self.process.stdin.fileno()  # what we write: the runner's stdin
        self._in = self.process.stdout.fileno()
        os.set_blocking(self._out, False)
        os.set_blocking(self._in, False)
        try:
            ready = self._read(self.start_timeout)
        except (RunnerError, ProtocolError) as error:
            detail = self._stderr_text() or str(error)
            self.close()
            raise RunnerError(f"The code runner did not start: {detail}", "start_failed") from None
        self.info = ready.get("ready") or {}
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None and not self.retired

    def close(self) -> None:
        """Kill the runner (and its sandbox) and clean up; safe to call twice."""
        process, self.process = self.process, None
        if process is not None:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            self.returncode = process.returncode
            for stream in (process.stdin, process.stdout):
                if stream:
                    with contextlib.suppress(OSError):
                        stream.close()
        stderr = getattr(self, "_stderr", None)
        if stderr is not None:
            stderr.close()
            del self._stderr
        if self.command is not None:
            for path in self.command.cleanup:
                shutil.rmtree(path, ignore_errors=True)
            self.command.cleanup = []

    def forget(self) -> None:
        """In a forked child: drop the pipes without touching the parent's process."""
        for fd in (getattr(self, "_in", None), getattr(self, "_out", None)):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.process = None

    # Jobs ---------------------------------------------------------------

    def call(
        self,
        job: dict,
        *,
        time_limit: float,
        grace: float,
        on_call: CallHandler | None,
        should_stop: Callable[[], bool] | None = None,
    ):
        """The job's answer (``done``); JobFailed, RunnerError, or a handler's abort error.
        ``should_stop`` is asked every STOP_POLL_SECONDS while the job runs: when it says
        so, the runner is killed (RunnerError ``stopped``) rather than left to its limit."""
        budget = [time_limit + grace]
        self.jobs += 1
        self.delivered = False
        self._write(encode_fast(job), budget)
        self.delivered = True
        self._should_stop = should_stop
        try:
            return self._answers(budget, time_limit, on_call)
        finally:
            self._should_stop = None

    def _answers(self, budget: list[float], time_limit: float, on_call: CallHandler | None):
        abort: CallAbort | None = None
        while True:
            message = self._read_within(budget, time_limit)
            if "call" in message:
                if abort is not None:
                    answer: dict[str, Any] = {"abort": {"message": str(abort), "code": abort.code}}
                else:
                    answer, abort = self._answer(message, on_call)
                try:
                    frame = encode_fast(answer)
                except (TypeError, ValueError, RecursionError) as error:
                    frame = encode({"fail": {"message": f"The answer is not JSON: {error}"}})
                self._write(frame, budget)
                continue
            if message.get("retire"):
                self.retired = True
            if abort is not None:
                raise abort.error
            if "done" in message:
                return message["done"]
            if "error" in message:
                raise JobFailed(message["error"] if isinstance(message["error"], dict) else {})
            self._kill("protocol")
            raise RunnerError("The code runner broke the protocol.", "protocol")

    def _answer(self, message: dict, on_call: CallHandler | None):
        op, args = message.get("call"), message.get("args")
        if on_call is None:
            return {"fail": {"message": "The api is not available here.", "code": "no_api"}}, None
        if not isinstance(op, str) or not isinstance(args, dict):
            return {"fail": {"message": "Malformed call.", "code": "protocol"}}, None
        try:  # the time this takes is not the runner's: the budget only shrinks in poll()
            return {"reply": on_call(op, args)}, None
        except CallFailed as failed:
            return {"fail": failed.answer}, None
        except CallAbort as abort:
            return {"abort": {"message": str(abort), "code": abort.code}}, abort
        except Exception as error:  # the platform's own failure: the job ends with it
            answer = {"abort": {"message": "The platform failed.", "code": "aborted"}}
            return answer, CallAbort(error)

    # Frames -------------------------------------------------------------

    def _read_within(self, budget: list[float], time_limit: float) -> dict:
        try:
            return self._read(budget)
        except RunnerError as error:
            if error.code == "timeout":
                self._kill("timeout")
                raise RunnerError(f"Time limit of {time_limit:g} s exceeded.", "timeout") from None
            raise

    def _read(self, budget: list[float] | float) -> dict:
        if not isinstance(budget, list):
            budget = [budget]
        header = self._read_bytes(HEADER.size, budget)
        (size,) = HEADER.unpack(header)
        if size > self.max_frame:
            self._kill("output_limit")
            limit = (self.max_frame - (1 << 20)) / 2**20
            raise RunnerError(
                f"The result is larger than the limit of {limit:g} MiB.", "output_limit"
            )
        try:
            message = decode(self._read_bytes(size, budget))
        except ProtocolError:
            self._kill("protocol")
            raise RunnerError(
                "The code runner sent something that is not JSON.", "protocol"
            ) from None
        if not isinstance(message, dict):
            self._kill("protocol")
            raise RunnerError("The code runner broke the protocol.", "protocol")
        return message

    def _read_bytes(self, size: int, budget: list[float]) -> bytes:
        chunks: list[bytes] = []
        poller = select.poll()
        poller.register(self._in, select.POLLIN)
        should_stop = self._should_stop
        while size:
            started = time.monotonic()
            wait = max(budget[0], 0)
            ready = poller.poll((min(wait, STOP_POLL_SECONDS) if should_stop else wait) * 1000)
            budget[0] -= time.monotonic() - started
            if not ready and budget[0] > 0 and should_stop is not None:
                if should_stop():
                    self._kill("stopped")
                    raise RunnerError("Stopped: the task was cancelled.", "stopped")
                continue
            if not ready:
                raise RunnerError("timeout", "timeout")
            try:
                chunk = os.read(self._in, min(size, 1 << 20))
            except BlockingIOError:
                continue
            if not chunk:
                raise self._died()
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def _write(self, frame: bytes, budget: list[float]) -> None:
        view = memoryview(frame)
        poller = select.poll()
        poller.register(self._out, select.POLLOUT)
        while view:
            started = time.monotonic()
            ready = poller.poll(max(budget[0], 0) * 1000)
            budget[0] -= time.monotonic() - started
            if not ready:
                self._kill("timeout")
                raise RunnerError("The code runner stopped reading.", "timeout")
            try:
                written = os.write(self._out, view)
            except BlockingIOError:
                continue
            except OSError as error:
                if error.errno in (errno.EPIPE, errno.EBADF):
                    raise self._died() from None
                raise
            view = view[written:]

    def _kill(self, reason: str) -> None:
        self.killed_for = reason
        self.close()

    def _died(self) -> RunnerError:
        """What the end of the pipe means, from the runner's exit status."""
        process = self.process
        status = None
        if process is not None:
            try:
                status = process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                status = None
        self.close()
        memory = int(self.config.get("memory_bytes", 0)) / 2**20
        if status in (EXIT_MEMORY, 128 + EXIT_MEMORY):
            return RunnerError(f"Memory limit of {memory:g} MiB exceeded.", "memory")
        signals = {-signal.SIGXCPU, 128 + signal.SIGXCPU}
        if status in signals:
            return RunnerError("CPU time limit exceeded.", "timeout")
        if status in (-signal.SIGKILL, 128 + signal.SIGKILL, -signal.SIGSEGV, 128 + signal.SIGSEGV):
            return RunnerError(
                f"The code runner was killed (status {status}): out of memory "
                f"(limit {memory:g} MiB) or a crash.",
                "crashed",
            )
        return RunnerError(f"The code runner stopped unexpectedly (status {status}).", "crashed")

    def _stderr_text(self) -> str:
        stderr = getattr(self, "_stderr", None)
        if stderr is None:
            return ""
        try:
            if self.process is not None and self.process.poll() is None:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
            stderr.seek(0)
            return stderr.read(4000).decode(errors="replace").strip()
        except OSError:
            return ""
