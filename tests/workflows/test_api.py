"""The workflows API and management commands."""

import json

import pytest
from django.core.management import CommandError, call_command

from apps.workflows.models import Algorithm, Task


def test_algorithm_errors_are_400_with_the_line(api, namespace):
    response = api.post(
        "/api/v2/setup/algorithm/",
        {"namespace": "crm", "name": "bad", "code": "x = 1\nimport os\nreturn x"},
        format="json",
    )
    assert response.status_code == 400
    assert "line 2" in str(response.json()["code"]) and "os" in str(response.json()["code"])
    assert not Algorithm.objects.exists()


def test_run_algorithm_async(api, adder):
    queued = api.post(
        f"/api/v2/setup/algorithm/{adder['id']}/run/", {"input": {"a": 1}}, format="json"
    )
    assert queued.status_code == 202 and queued.json()["status"] == "pending"
    listed = api.get("/api/v2/setup/task/?status=pending").json()
    assert [t["id"] for t in listed["results"]] == [queued.json()["id"]]


def test_arguments_sent_without_the_input_wrapper_are_a_400_that_says_where_they_go(api, adder):
    response = api.post(
        f"/api/v2/setup/algorithm/{adder['id']}/run/", {"a": 1, "sync": False}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "a": ['Unknown field: the arguments go in "input", e.g. {"input": {"a": …}}.']
    }
    assert not Task.objects.exists()


def test_elements_are_addressed_by_namespace_dot_name_as_well_as_by_id(
    api, api_as, make_user, adder
):
    """``/setup/algorithm/crm.add/`` and its run action, as ``?flow=crm.import`` filters:
    no id lookup first. Only in namespaces the user may see."""
    by_name = api.get("/api/v2/setup/algorithm/crm.add/")
    assert by_name.status_code == 200 and by_name.json()["id"] == adder["id"]
    ran = api.post("/api/v2/setup/algorithm/crm.add/run/", {"input": {"a": 2}}, format="json")
    assert ran.status_code == 202
    assert Task.objects.get(pk=ran.json()["id"]).algorithm_id == adder["id"]
    missing = api.get("/api/v2/setup/algorithm/crm.nope/")
    assert missing.status_code == 404
    assert api.get("/api/v2/setup/algorithm/not-a-name/").status_code == 404
    stranger = api_as(make_user("mallory"))
    assert stranger.get("/api/v2/setup/algorithm/crm.add/").status_code == 404
    assert (
        stranger.post("/api/v2/setup/algorithm/crm.add/run/", {}, format="json").status_code == 404
    )


def test_observer_and_scheduler_endpoints(api, contact):
    observer = api.post(
        "/api/v2/setup/observer/",
        {
            "namespace": "crm",
            "name": "paid",
            "data_type": {"namespace": "crm", "name": "Contact"},
            "conditions": [{"field": "status", "op": "is", "value": "paid"}],
        },
        format="json",
    )
    assert observer.status_code == 201, observer.json()
    bad = api.post(
        "/api/v2/setup/observer/",
        {
            "namespace": "crm",
            "name": "bad",
            "data_type": {"namespace": "crm", "name": "Contact"},
            "conditions": [{"field": "status", "op": "equals"}],
        },
        format="json",
    )
    assert bad.status_code == 400 and "unknown operator 'equals'" in str(bad.json())
    scheduler = api.post(
        "/api/v2/setup/scheduler/",
        {"namespace": "crm", "name": "hourly", "expression": "every 1h"},
        format="json",
    )
    assert scheduler.status_code == 201
    assert api.get("/api/v2/setup/scheduler/").json()["count"] == 1
    assert api.get("/api/v2/setup/observer/").json()["count"] == 1


def test_tasks_follow_namespace_permissions(api, api_as, make_user, adder):
    api.post(f"/api/v2/setup/algorithm/{adder['id']}/run/", {"input": {"a": 1}}, format="json")
    stranger = api_as(make_user("eve"))
    assert stranger.get("/api/v2/setup/task/").json()["count"] == 0
    assert stranger.post(f"/api/v2/setup/algorithm/{adder['id']}/run/", {}).status_code == 404
    task = Task.objects.get()
    assert stranger.post(f"/api/v2/setup/task/{task.pk}/cancel/").status_code == 404
    before = task.updated_at
    assert api.post(f"/api/v2/setup/task/{task.pk}/cancel/").json()["status"] == "cancelled"
    task.refresh_from_db()
    assert task.updated_at > before  # a client polling on updated_at sees the change


def test_cancel_or_retry_of_a_task_that_cannot_is_a_409_that_says_why(api, adder):
    api.post(f"/api/v2/setup/algorithm/{adder['id']}/run/", {"input": {"a": 1}}, format="json")
    task = Task.objects.get()
    Task.objects.filter(pk=task.pk).update(status=Task.Status.COMPLETED)
    cancel = api.post(f"/api/v2/setup/task/{task.pk}/cancel/")
    assert cancel.status_code == 409
    assert "is completed: only pending, running, retrying or paused" in cancel.json()["detail"]
    retry = api.post(f"/api/v2/setup/task/{task.pk}/retry/")
    assert retry.status_code == 409
    assert "is completed: only failed, broken, cancelled or paused" in retry.json()["detail"]
    task.refresh_from_db()
    assert task.status == Task.Status.COMPLETED


def test_commands(adder, capsys):
    call_command("run_algorithm", "crm.add", "--input", '{"a": 40, "b": 2}', "--sync")
    out = json.loads(capsys.readouterr().out)
    assert out["result"] == 42 and out["status"] == "completed"
    call_command("run_algorithm", "crm.add", "--input", '{"a": 1}')
    task_id = int(capsys.readouterr().out.strip())
    assert Task.objects.get(pk=task_id).status == "pending"
    with pytest.raises(CommandError, match=r"No algorithm crm\.nope"):
        call_command("run_algorithm", "crm.nope", "--sync")
    with pytest.raises(CommandError, match="not JSON"):
        call_command("run_algorithm", "crm.add", "--input", "{a", "--sync")
    with pytest.raises(CommandError, match="parameter 'a' is missing"):
        call_command("run_algorithm", "crm.add", "--sync")
    with pytest.raises(CommandError, match="parameter 'a' is missing"):
        call_command("run_algorithm", "crm.add")  # checked before it is enqueued


@pytest.mark.parametrize(
    "translator", ["crm.nope", 42, {"name": "x"}, {"namespace": "crm"}, ["crm", "x"]]
)
def test_references_in_the_wrong_shape_are_400(api, namespace, translator):
    response = api.post(
        "/api/v2/setup/flow/",
        {"namespace": "crm", "name": "f", "translator": translator},
        format="json",
    )
    assert response.status_code == 400
    assert 'Expected an object {"namespace"' in response.json()["translator"][0]


def test_tasks_by_flow_id_or_name(api, namespace, make, converter):
    from apps.workflows.models import Flow
    from apps.workflows.services import flow_enqueue

    first = make(Flow, "first", translator=converter)
    second = make(Flow, "second", translator=converter)
    mine = flow_enqueue(flow=first)
    flow_enqueue(flow=second)
    for value in (str(first.pk), "crm.first"):
        listed = api.get(f"/api/v2/setup/task/?flow={value}").json()["results"]
        assert [t["id"] for t in listed] == [mine.pk], value
    assert api.get("/api/v2/setup/task/?flow=crm.nope").json()["results"] == []
    bad = api.get("/api/v2/setup/task/?flow=first")
    assert bad.status_code == 400 and "namespace.name" in str(bad.json()["flow"])


def test_task_status_command(capsys, api, adder):
    from django.core.management import CommandError, call_command

    from apps.workflows.models import Algorithm, Task
    from apps.workflows.services import algorithm_run

    done = algorithm_run(
        algorithm=Algorithm.objects.get(name="add"), arguments={"a": 1, "b": 2}, sync=True
    )
    call_command("task_status", str(done.pk))
    assert json.loads(capsys.readouterr().out) == {
        "task": done.pk,
        "status": "completed",
        "result": 3,
        "errors": [],
    }
    Task.objects.filter(pk=done.pk).update(status=Task.Status.FAILED)
    with pytest.raises(CommandError, match=f"task #{done.pk}"):
        call_command("task_status", str(done.pk))
    with pytest.raises(CommandError, match="No task #999999"):
        call_command("task_status", "999999")
    with pytest.raises(CommandError, match="0 to 3600"):
        call_command("task_status", str(done.pk), "--wait", "-1")
    Task.objects.filter(pk=done.pk).update(status=Task.Status.RUNNING)
    with pytest.raises(CommandError, match=f"Task #{done.pk} is still running after 0.2 s"):
        call_command("task_status", str(done.pk), "--wait", "0.2")
