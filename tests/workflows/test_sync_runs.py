"""``{"sync": true}`` runs: the task runs in a real worker; the web process waits a bound.

A web worker is never held longer than SYNC_WAIT_SECONDS: a run that takes
longer is answered 202 with the task to follow, and finishes in the worker.
"""

import time

import pytest

from tests.workers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def run(api, algorithm, body):
    return api.post(f"/api/v2/setup/algorithm/{algorithm['id']}/run/", body, format="json")


def test_a_sync_run_answers_with_the_finished_task(api, adder, celery_worker_process):
    done = run(api, adder, {"input": {"a": 2, "b": 3}, "sync": True})
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "completed" and done.json()["result"] == 5
    assert run(api, adder, {"input": {"a": 2}, "sync": True}).json()["result"] == 3
    # Arguments are checked before anything runs: a 400 that says which, and no task.
    before = api.get("/api/v2/setup/task/").json()["count"]
    missing = run(api, adder, {"input": {}, "sync": True})
    assert missing.status_code == 400
    assert "parameter 'a' is missing" in str(missing.json()["input"])
    mistyped = run(api, adder, {"input": {"a": "x", "b": 3}})
    assert mistyped.status_code == 400
    assert "the parameter 'a' must be an integer, not 'x'" in str(mistyped.json()["input"])
    unknown = run(api, adder, {"input": {"a": 1, "c": 3}})
    assert unknown.status_code == 400 and "unknown argument(s) c" in str(unknown.json()["input"])
    assert api.get("/api/v2/setup/task/").json()["count"] == before


def test_failed_runs_say_why(api, namespace, celery_worker_process):
    boom = api.post(
        "/api/v2/setup/algorithm/",
        {"namespace": "crm", "name": "boom", "code": "return 1 / 0"},
        format="json",
    ).json()
    body = run(api, boom, {"input": {}, "sync": True}).json()
    assert body["status"] == "failed"
    assert "ZeroDivisionError" in body["error"] and "line 1" in body["error"]
    notes = api.get(f"/api/v2/setup/notification/?task={body['id']}").json()["results"]
    assert "traceback" not in str(notes) and "site-packages" not in str(notes)
    listed = api.get("/api/v2/setup/task/?status=failed").json()["results"]
    assert listed[0]["error"] == body["error"]


def test_a_slow_sync_run_is_202_after_the_wait_and_finishes_in_the_worker(
    api, namespace, settings, celery_worker_process
):
    settings.SYNC_WAIT_SECONDS = 0.5
    slow = api.post(
        "/api/v2/setup/algorithm/",
        {
            "namespace": "crm",
            "name": "slow",
            "code": "import datetime\nstart = datetime.datetime.now()\n"
            "while (datetime.datetime.now() - start).total_seconds() < 3:\n    pass\n"
            "return 'done'",
        },
        format="json",
    ).json()
    started = time.monotonic()
    answer = run(api, slow, {"sync": True})
    waited = time.monotonic() - started
    assert answer.status_code == 202 and answer.json()["status"] in {"pending", "running"}
    assert waited < 2.5  # the web side waited about SYNC_WAIT_SECONDS, not the 3 s run
    task = answer.json()["id"]
    finished = wait_for(
        lambda: (t := api.get(f"/api/v2/setup/task/{task}/").json())["status"] == "completed" and t,
        timeout=60,
        what="the worker to finish the slow run",
        process=celery_worker_process,
    )
    assert finished["result"] == "done"


def test_flow_setup_and_sync_run_via_api(api, namespace, celery_worker_process):
    for name, schema in [
        ("Contact", {"type": "object", "properties": {"id": {"type": "integer"}}}),
        ("Customer", {"type": "object", "properties": {"id": {"type": "integer"}}}),
    ]:
        created = api.post(
            "/api/v2/setup/data_type/",
            {"namespace": "crm", "name": name, "primary_key": "id", "schema": schema},
            format="json",
        )
        assert created.status_code == 201, created.json()
    translator = api.post(
        "/api/v2/setup/translator/",
        {
            "namespace": "crm",
            "name": "to_customer",
            "type": "conversion",
            "style": "mapping",
            "source_data_type": {"namespace": "crm", "name": "Contact"},
            "target_data_type": {"namespace": "crm", "name": "Customer"},
            "mapping": {"id": "id", "full_name": "first"},
        },
        format="json",
    )
    assert translator.status_code == 201, translator.json()
    flow = api.post(
        "/api/v2/setup/flow/",
        {
            "namespace": "crm",
            "name": "convert",
            "translator": {"namespace": "crm", "name": "to_customer"},
            "scope": "all",
        },
        format="json",
    )
    assert flow.status_code == 201, flow.json()
    api.post("/api/v2/crm/Contact/", [{"id": 1, "first": "Ann"}], format="json")
    ran = api.post(f"/api/v2/setup/flow/{flow.json()['id']}/run/", {"sync": True}, format="json")
    assert ran.status_code == 200 and ran.json()["result"]["created"] == 1, ran.json()
    assert api.get("/api/v2/crm/Customer/1/").json()["data"] == {"id": 1, "full_name": "Ann"}
    unknown = api.post(
        "/api/v2/setup/flow/",
        {"namespace": "crm", "name": "x", "translator": {"namespace": "crm", "name": "nope"}},
        format="json",
    )
    assert unknown.status_code == 400 and "nope" in str(unknown.json())
