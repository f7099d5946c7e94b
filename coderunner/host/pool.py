"""A pool of warm runners per process, never shared between tenants.

A runner that has run one namespace's code is only ever given jobs of that
namespace again: code that broke out of the language sandbox inside a runner
could otherwise read the next tenant's records from its job. New tenants take
a *spare* (started ahead, never used); the pool keeps ``spares`` of them
warm in the background, and at most ``max_idle`` idle runners in all (the
least recently used are stopped first).

Runners are started by one long-lived thread of the pool: the kernel's
"die with the parent" is tied to the thread that started a process, and a
web server's request threads come and go. After a ``fork`` (Celery's prefork
pool) the child forgets the parent's runners and starts its own.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .process import CallHandler, Runner, RunnerError

logger = logging.getLogger("coderunner")


class RunnerPool:
    def __init__(
        self,
        *,
        mode: str,
        config: dict,
        spares: int = 1,
        max_idle: int = 4,
        start_timeout: float = 10.0,
        grace: float = 1.0,
    ) -> None:
        self.mode, self.config = mode, config
        self.spares_target, self.max_idle = spares, max_idle
        self.start_timeout, self.grace = start_timeout, grace
        self._lock = threading.Lock()
        self._idle: OrderedDict[int, tuple[str, Runner]] = OrderedDict()  # id → (tenant, runner)
        self._spares: list[Runner] = []
        self._starting = 0
        self._executor: ThreadPoolExecutor | None = None
        self._pid = os.getpid()
        self.stats = {"started": 0, "killed": 0, "jobs": 0}
        self._warned = False
        os.register_at_fork(after_in_child=self._after_fork)

    # Public -------------------------------------------------------------

    def run(
        self,
        job: dict,
        *,
        tenant: str,
        time_limit: float,
        on_call: CallHandler | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> Any:
        """Run ``job`` in a runner of ``tenant``; the runner's answer (``done``).

        Raises JobFailed (the user's code failed), RunnerError (time, memory, crash, or
        ``stopped``: ``should_stop``, asked while the job runs, said to), or what
        ``on_call`` aborted the job with.
        """
        job = {**job, "time_limit": time_limit}
        for attempt in (1, 2):
            runner = self._acquire(tenant)
            try:
                answer = runner.call(
                    job,
                    time_limit=time_limit,
                    grace=self.grace,
                    on_call=on_call,
                    should_stop=should_stop,
                )
            except RunnerError as error:
                self._discard(runner)
                # A runner that died idle, before it got the job, is replaced once.
                if error.code == "crashed" and not runner.delivered and attempt == 1:
                    continue
                raise
            except BaseException:
                if runner.alive:
                    self._release(tenant, runner)
                else:
                    self._discard(runner)
                raise
            self.stats["jobs"] += 1
            self._release(tenant, runner)
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def prestart(self) -> None:
        """Start the spares in the background (a worker or web process calls this at start)."""
        self._check_fork()
        with self._lock:
            wanted = self.spares_target - len(self._spares) - self._starting
            self._starting += max(wanted, 0)
        for _ in range(max(wanted, 0)):
            self._executor_().submit(self._start_spare)

    def close(self) -> None:
        with self._lock:
            runners = [runner for _, runner in self._idle.values()] + self._spares
            self._idle.clear()
            self._spares = []
        for runner in runners:
            runner.close()

    @property
    def idle_count(self) -> int:
        return len(self._idle) + len(self._spares)

    # Inside -------------------------------------------------------------

    def _executor_(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coderunner")
        return self._executor

    def _start(self) -> Runner:
        # On the pool's own thread: the runner dies with that thread (see the module doc).
        runner = self._executor_().submit(self._new).result()
        return runner

    def _new(self) -> Runner:
        runner = Runner(mode=self.mode, config=self.config, start_timeout=self.start_timeout)
        runner.start()
        self.stats["started"] += 1
        missing = runner.info.get("missing")
        if missing and not self._warned:
            self._warned = True  # once per process: the start-up warning says the rest
            logger.warning("Code runners start without: %s", ", ".join(missing))
        return runner

    def _start_spare(self) -> None:
        try:
            runner = self._new()
        except Exception:
            logger.warning("Could not start a spare code runner", exc_info=True)
            with self._lock:
                self._starting -= 1
            return
        with self._lock:
            self._starting -= 1
            self._spares.append(runner)

    def _acquire(self, tenant: str) -> Runner:
        self._check_fork()
        with self._lock:
            for key in reversed(self._idle):
                owner, runner = self._idle[key]
                if owner == tenant:
                    del self._idle[key]
                    if runner.alive:
                        return runner
                    stale = runner
                    break
            else:
                stale = None
            spare = self._spares.pop() if self._spares else None
        if stale is not None:
            self._discard(stale)
            return self._acquire(tenant)
        if spare is not None:
            self.prestart()
            if spare.alive:
                return spare
            self._discard(spare)
        started = time.monotonic()
        runner = self._start()
        logger.debug(
            "Started a code runner for %s in %.0f ms", tenant, (time.monotonic() - started) * 1000
        )
        self.prestart()
        return runner

    def _release(self, tenant: str, runner: Runner) -> None:
        if not runner.alive or runner.owner_pid != os.getpid():
            self._discard(runner)
            return
        evicted = []
        with self._lock:
            self._idle[id(runner)] = (tenant, runner)
            while len(self._idle) > self.max_idle:
                _, (_, oldest) = self._idle.popitem(last=False)
                evicted.append(oldest)
        for old in evicted:
            self._discard(old)

    def _discard(self, runner: Runner) -> None:
        self.stats["killed"] += 1
        runner.close()

    def _check_fork(self) -> None:
        if self._pid != os.getpid():
            self._after_fork()

    def _after_fork(self) -> None:
        for _, runner in list(self._idle.values()):
            runner.forget()
        for runner in self._spares:
            runner.forget()
        self._idle = OrderedDict()
        self._spares = []
        self._starting = 0
        self._lock = threading.Lock()
        self._executor = None
        self._pid = os.getpid()
