"""Runs that hit a limit end with a clear error, in a runner that is then replaced."""

from __future__ import annotations

import os
import signal
import time

import pytest

from apps.data.services import data_type_save, records_save
from apps.runners.services import pool
from apps.workflows.engine.algorithms import AlgorithmFailed, run_algorithm
from apps.workflows.models import Algorithm
from apps.workflows.services import element_save


@pytest.fixture
def make_algorithm(namespace):
    def make(code: str, *parameters: str, time_limit: float = 5, name: str = "probe"):
        return element_save(
            model=Algorithm,
            namespace=namespace,
            name=name,
            code=code,
            parameters=[{"name": p} for p in parameters],
            time_limit=time_limit,
        )

    return make


def failure(algorithm, arguments=None) -> AlgorithmFailed:
    with pytest.raises(AlgorithmFailed) as caught:
        run_algorithm(algorithm, arguments or {})
    return caught.value


def test_c_code_past_the_time_limit_is_killed_and_the_runner_replaced(make_algorithm):
    regex = make_algorithm("import re\nreturn bool(re.match('^(a+)+$', 'a' * 40 + 'b'))",
                           time_limit=1)  # fmt: skip
    started = time.monotonic()
    error = failure(regex)
    assert time.monotonic() - started < 4
    assert (error.code, str(error)) == (
        "timeout",
        f"Algorithm {regex}: Time limit of 1 s exceeded.",
    )
    quick = make_algorithm("return 1 + 1", name="quick")
    assert run_algorithm(quick, {}) == 2  # a fresh runner


def test_a_loop_past_the_time_limit_is_named_by_its_line_every_time(make_algorithm):
    loop = make_algorithm("x = 1\nwhile True:\n    pass", time_limit=0.3)
    lines = {str(failure(loop)) for _ in range(4)}
    assert lines == {f"Algorithm {loop}, line 2: Time limit of 0.3 s exceeded."}


def test_memory_past_the_limit_is_a_clear_error(make_algorithm):
    hog = make_algorithm("parts = []\nfor i in range(100):\n    parts.append('x' * 10 ** 7)\n"
                         "return len(parts)")  # fmt: skip
    error = failure(hog)
    assert error.code == "memory" and "Memory limit of 256 MiB exceeded" in str(error)
    assert run_algorithm(make_algorithm("return 'fine'", name="after"), {}) == "fine"


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("x = []\nfor i in range(100000):\n    x = [x]\nreturn x", "nested too deeply"),
        ("return {1, 2}", "not JSON"),
        ("return float('nan')", "not JSON"),
        ("return 'a' * 9_000_000 + 'b' * 9_000_000", "more than the limit of 16 MiB"),
        ("return chr(0xD800)", "not valid Unicode"),
    ],
)
def test_results_that_are_not_plain_json_of_a_sane_size_are_refused(make_algorithm, code, says):
    error = failure(make_algorithm(code))
    assert says in str(error)


def test_api_records_find_is_equality_only_and_stays_in_the_namespace(make_algorithm, namespace):
    contact = data_type_save(
        namespace=namespace, name="Contact", schema={"type": "object"}, primary_key="id"
    )
    records_save(
        data_type=contact,
        records=[{"id": 1, "name": "aaaa", "address": {"city": "Lima"}}, {"id": 2, "name": "b"}],
    )
    nested = make_algorithm("return api.records('Contact').find(**{'address.city': 'Lima'})")
    assert run_algorithm(nested, {}) == [{"id": 1, "name": "aaaa", "address": {"city": "Lima"}}]
    regex = make_algorithm("return api.records('Contact').find(name__regex='^(a+)+$')", name="re")
    assert "is not a field name" in str(failure(regex))
    other = make_algorithm("return api.records('other.Contact').count()", name="other")
    assert "reach only their own namespace" in str(failure(other))
    too_many = make_algorithm("return api.records('Contact').all(limit=10 ** 6)", name="many")
    assert "more than the 10000 records" in str(failure(too_many))


@pytest.mark.parametrize("limit", [0, -1, -5, 99999, 300.5])
def test_time_limits_out_of_bounds_are_refused_on_save(api, namespace, limit):
    response = api.post(
        "/api/v2/setup/algorithm/",
        {"namespace": "crm", "name": "x", "code": "return 1", "time_limit": limit},
        format="json",
    )
    assert response.status_code == 400
    assert "from 0.1 to 300 seconds" in str(response.json()["time_limit"])


def test_a_runner_that_died_idle_is_replaced_without_failing_the_run(make_algorithm):
    algorithm = make_algorithm("return 7")
    assert run_algorithm(algorithm, {}) == 7
    for _, runner in list(pool()._idle.values()):  # kill the idle runners behind the pool's back
        os.kill(runner.process.pid, signal.SIGKILL)
        runner.process.wait()
    assert run_algorithm(algorithm, {}) == 7


def test_a_forked_process_gets_runners_of_its_own(make_algorithm):
    algorithm = make_algorithm("return 5")
    assert run_algorithm(algorithm, {}) == 5
    before = {id(runner) for _, runner in pool()._idle.values()}
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: a fresh pool; the parent's runners untouched
        try:
            ok = pool()._idle == {} and not pool()._spares
            os.write(write, b"ok" if ok else b"shared")
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 10) == b"ok"
    assert {id(runner) for _, runner in pool()._idle.values()} == before
    assert run_algorithm(algorithm, {}) == 5
