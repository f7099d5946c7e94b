"""A runner's life seen from outside: what is left of it after a kill, and whom it serves.

* Killed at its time limit, a runner leaves no process behind (its sandbox and
  the interpreter inside go with it), and nothing it would have done later
  reaches the platform: the next job of the namespace is answered by a fresh
  runner, and by its own code only.
* A runner that has run one namespace's code never runs another's.

Real runners, as the platform starts them (bubblewrap here, and the fallback);
processes are read from /proc.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from coderunner.host import RunnerError, RunnerPool, detect

CONFIG = {"memory_bytes": 256 << 20, "max_frame": 16 << 20, "default_time_limit": 10}
MODES = sorted({detect("auto").mode, "fallback"})
# A regular expression that runs in C for minutes: no user line, so only the kill stops
# it; then the code would go on and call the platform.
STUCK_THEN_CALL = (
    'import re\nre.match("(a+)+$", "a" * 34 + "b")\napi.notify("after the kill")\nreturn 1'
)


def descendants() -> set[int]:
    """Live processes below this one (runners, their sandboxes), from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":  # a zombie has finished
                parents.setdefault(int(fields[1]), []).append(int(entry))
    found: set[int] = set()
    todo = [os.getpid()]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def job(code: str) -> dict:
    return {"job": "algorithm", "name": "t", "code": code, "parameters": [], "runs": [{}],
            "collect": False, "task": None, "api": True}  # fmt: skip


def run(pool: RunnerPool, code: str, *, tenant: str = "a", time_limit: float = 5, **kwargs):
    """What the code returned."""
    return pool.run(job(code), tenant=tenant, time_limit=time_limit, **kwargs)["values"][0]


class Calls:
    """An ``on_call`` that answers every call and remembers it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict]] = []

    def __call__(self, op: str, args: dict):
        self.seen.append((op, args))
        return None


@pytest.fixture(params=MODES)
def pool(request):
    made = RunnerPool(mode=request.param, config=CONFIG, spares=0, max_idle=4, grace=0.5)
    yield made
    made.close()


def wait_gone(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = pids & descendants()
        if not left:
            return left
        time.sleep(0.05)
    return pids & descendants()


def test_a_runner_killed_at_its_time_limit_leaves_no_process_and_runs_nothing_after(pool):
    before = descendants()
    assert run(pool, "return 1") == 1
    runner = descendants() - before  # the idle runner of "a", with its sandbox
    assert runner, "the runner's processes are visible"
    calls = Calls()
    started = time.monotonic()
    with pytest.raises(RunnerError) as killed:
        run(pool, STUCK_THEN_CALL, time_limit=0.5, on_call=calls)
    assert killed.value.code == "timeout" and "Time limit of 0.5 s exceeded" in killed.value.message
    assert time.monotonic() - started < 5
    # Within a second: before the CPU limit (two seconds of CPU past the time limit)
    # could have stopped it, so it is the kill that did.
    assert wait_gone(runner, seconds=1) == set(), "the killed runner's processes are gone"
    later = Calls()
    assert run(pool, "api.notify('mine')\nreturn 2", on_call=later) == 2
    assert calls.seen == [] and later.seen == [("notify", {"message": "mine", "level": "info",
                                                           "attachment": None})]  # fmt: skip
    assert not (runner & descendants()), "a fresh runner answered"


def test_code_left_behind_by_a_run_does_not_run_after_it(pool):
    # A generator kept in a reference cycle is closed by the garbage collector after
    # the run: its ``finally`` would call the platform then, in this job or the next.
    leaves_a_generator = """
def late():
    try:
        yield 1
    finally:
        api.notify("after the run")
kept = late()
next(kept)
cycle = [kept]
cycle.append(cycle)
return 1
"""
    first, second = Calls(), Calls()
    assert run(pool, leaves_a_generator, on_call=first) == 1
    assert run(pool, "return 2", on_call=second) == 2
    assert first.seen == [] and second.seen == []


def test_a_runner_never_serves_another_namespace(pool):
    before = descendants()
    run(pool, "return 1", tenant="namespace:1")
    first = descendants() - before
    run(pool, "return 1", tenant="namespace:2")
    second = descendants() - before - first
    assert first and second, "namespace 2 got a runner of its own"
    assert pool.stats["started"] == 2
    for tenant in ("namespace:1", "namespace:2", "namespace:1"):
        run(pool, "return 1", tenant=tenant)
    assert pool.stats["started"] == 2, "each namespace's runner served that namespace again"
    assert descendants() - before == first | second


@pytest.mark.parametrize(
    "work",
    [
        {"job": "render", "template": "{{ 'x'|center(1000000000) }}", "mime_type": "text/plain",
         "bulk": False, "records": [{}]},
        {"job": "map", "mapping": {"x": "{{ '%1000000000d' % 1 }}"}, "records": [{}]},
        job('return len("".join(["x" * 10**7] * 100))'),
    ],
    ids=["template", "mapping", "algorithm"],
)  # fmt: skip
def test_out_of_memory_is_said_so_and_the_runner_retires(pool, work):
    from coderunner.host import JobFailed

    with pytest.raises(JobFailed) as failed:
        pool.run(work, tenant="a", time_limit=5)
    assert failed.value.code == "memory"
    assert failed.value.message == "Memory limit of 256 MiB exceeded."
    started = pool.stats["started"]
    assert run(pool, "return 1") == 1
    assert pool.stats["started"] == started + 1, "a fresh runner, not the one that ran out"


def test_a_result_whose_encoding_runs_user_code_is_an_error_that_says_so(pool):
    from coderunner.host import JobFailed

    sneaky = """
class Sneaky(dict):
    def items(self):
        api.notify("while encoding")
        return []
return Sneaky(a=1)
"""
    calls = Calls()
    with pytest.raises(JobFailed) as failed:
        run(pool, sneaky, on_call=calls)
    assert failed.value.message == (
        "The result could not be made JSON: APIError: The api can only be used while the "
        "algorithm runs."
    )
    assert calls.seen == []
    assert run(pool, "return 2") == 2


def test_what_jobs_import_on_first_use_works_in_every_mode(pool):
    # In the fallback, the runner drops to nobody, who may not read the interpreter's
    # files (an interpreter in root's home): Jinja's string literals, strptime and
    # codecs failed there with "Template syntax error: unicode-escape" and the like.
    render = {"job": "render", "template": '{{ "a b"|truncate(3) }}', "mime_type": "text/plain",
              "bulk": False, "records": [{}]}  # fmt: skip
    assert pool.run(render, tenant="a", time_limit=5) == {"values": ["a b"]}
    code = """
import datetime
return [str(datetime.datetime.strptime("2024", "%Y")), "é".encode("cp1252").hex()]
"""
    assert run(pool, code) == ["2024-01-01 00:00:00", "e9"]
