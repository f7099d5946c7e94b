"""The escape corpus (issue 8 point 6): every payload, through the API, as a non-superuser.

Each payload of ``escape_payloads`` is saved and run by a user who may change
their own namespace only, in a real worker of the corpus's own (with a secret
in its environment). It must end as its ``expect`` says — a clear error on
save or on the task, or a harmless result — within WALL_LIMIT, and leave every
canary of ``escape_harness`` untouched: the files, the environment variable,
the listener, the victim's rows and secrets, the worker's life.

The stage (users, namespaces, servers, worker) is built once for the module;
per payload only its elements are created and run. The database is committed
(the worker must see it) and flushed when the module ends, as a transactional
test's is.
"""

from __future__ import annotations

import collections
import contextlib
import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings

from tests.workers import start_worker, stop_worker, tasks_routed_to, worker_log

from .escape_harness import (
    ATTACKER_NS,
    QUEUE,
    VICTIM_NS,
    WALL_LIMIT,
    Canaries,
    Listener,
    Sink,
    Stage,
    client_for,
    plant_attacker,
    plant_victim,
    worker_env,
)
from .escape_payloads import PAYLOADS
from .escape_payloads.base import KINDS, code
from .escape_runs import run_payload

pytestmark = pytest.mark.worker

NAMES = {payload.id: f"p{index}" for index, payload in enumerate(PAYLOADS)}


@pytest.fixture(scope="module")
def db(django_db_setup, django_db_blocker):
    """The test database, committed and shared by the module's tests.

    It stands in for pytest-django's ``db`` (whose per-test transaction the
    worker could not see into), and still tells pytest-django to set the test
    database up. When the module ends, its rows go as a transactional test's do.
    """
    with django_db_blocker.unblock():
        try:
            yield
        finally:
            call_command("flush", verbosity=0, interactive=False)


@pytest.fixture(scope="module")
def stage(db):
    with contextlib.ExitStack() as stack:
        stack.enter_context(override_settings(SYNC_WAIT_SECONDS=WALL_LIMIT))
        canaries = Canaries.plant()
        stack.callback(canaries.remove)
        listener = Listener()
        stack.callback(listener.close)
        sink = Sink()
        stack.callback(sink.close)
        stack.enter_context(tasks_routed_to(QUEUE))
        worker = start_worker(concurrency=1, env=worker_env(canaries), queue=QUEUE)
        stack.callback(stop_worker, worker)
        users = get_user_model().objects
        attacker = users.create_user(username="mallory", password="m4llory-Passw0rd!")
        victim = users.create_user(username="victor", password="v1ctor-Passw0rd!")
        built = Stage(
            client=client_for(attacker),
            attacker=plant_attacker(attacker, sink),
            victim=plant_victim(victim, listener),
            canaries=canaries,
            listener=listener,
            sink=sink,
            worker=worker,
        )
        _warm_up(built)
        yield built


def _warm_up(stage: Stage) -> None:
    """One harmless run, so that each payload's wall time is its own (not the worker's start)."""
    harmless = code("warm-up", "warm-up", "return 1", "")
    deadline = time.monotonic() + 120
    attempt = 0
    while time.monotonic() < deadline and stage.worker.poll() is None:
        attempt += 1
        if run_payload(stage, harmless, f"warm_up_{attempt}").kind == "completed":
            return
    raise AssertionError(f"the corpus's worker did not answer: {worker_log(stage.worker)}")


def test_the_attacker_is_an_ordinary_user_of_their_own_namespace(stage):
    attacker = get_user_model().objects.get(username="mallory")
    assert not attacker.is_superuser and not attacker.is_staff
    assert stage.client.get(f"/api/v2/{VICTIM_NS}/Secret/").status_code in (403, 404)
    body = {"namespace": VICTIM_NS, "name": "planted", "code": "return 1"}
    planted = stage.client.post("/api/v2/setup/algorithm/", body, format="json")
    assert planted.status_code in (400, 403)
    assert stage.client.get(f"/api/v2/{ATTACKER_NS}/Item/").status_code == 200


def test_the_corpus_covers_the_families_and_kinds():
    assert len(PAYLOADS) >= 100
    assert len(NAMES) == len(PAYLOADS), "payload ids are unique"
    families = collections.Counter(payload.family for payload in PAYLOADS)
    assert set(families) >= {
        "review", "format", "frames", "types", "introspection", "modules", "pickling", "api",
        "exhaustion", "ssti",
    }  # fmt: skip
    assert {payload.kind for payload in PAYLOADS} == set(KINDS)


@pytest.mark.parametrize("payload", PAYLOADS, ids=list(NAMES))
def test_payload_is_contained(stage, payload):
    outcome = run_payload(stage, payload, NAMES[payload.id])
    problems = stage.check(outcome)
    assert not problems, f"{payload.id} ({outcome}): " + "; ".join(problems)
    bound = payload.seconds or WALL_LIMIT
    assert outcome.seconds < bound, (
        f"{payload.id} took {outcome.seconds:.1f} s, more than {bound} s"
    )
    assert re.match(payload.expect, str(outcome), re.DOTALL), (
        f"{payload.id} ended as {str(outcome)[:2000]!r}, expected {payload.expect!r}"
    )
