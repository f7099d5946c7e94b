"""A generated connector against the local CRM: import every record, export creates and updates.

The CRM is a real HTTP server (crm_api.py); tasks run as a worker runs them
(``run_pending``); records are written through the records API as a user would.
"""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from apps.connector_factory.generator import connector_generate
from apps.data.models import Record
from apps.workflows.models import Algorithm, Notification, Task
from apps.workflows.services import algorithm_run

from .conftest import run_pending
from .specs import contact_spec

FROM_API = "MAPPING_FROM_API_RESPONSE"


def import_all(namespace: str = "crm_demo", plural: str = "contacts", **arguments) -> Task:
    algorithm = Algorithm.objects.get(namespace__name=namespace, name=f"do_import_{plural}")
    task = algorithm_run(algorithm=algorithm, arguments=arguments, sync=True)
    run_pending()
    task.refresh_from_db()
    assert task.status == Task.Status.COMPLETED, task.executions.last().error
    return task


def contacts(namespace: str = "crm_demo") -> dict[str, dict]:
    rows = Record.objects.filter(data_type__namespace__name=namespace, data_type__name="Contact")
    return {row.key: row.data for row in rows}


@pytest.fixture
def connector(db, crm, admin_user):
    crm.page_size = 100
    return connector_generate(spec=contact_spec(crm.url), actor=admin_user).connector


def test_import_stores_every_record_as_the_api_sent_it(connector, crm):
    task = import_all()
    assert task.result == {"imported": 1000, "pages": 10}
    stored = contacts()
    assert len(stored) == 1000
    for remote_id, record in stored.items():
        sent = crm.contacts[int(remote_id)]
        assert record["raw_data"] == sent
        assert record["remote_id"] == str(sent["id"])
        assert record["last_source"] == FROM_API
        assert len(record["hmac"]) == 64 and record["imported_at"].startswith("20")
    assert len(crm.of("GET")) == 10  # ten pages of 100
    assert not crm.of("POST") and not crm.of("PUT")  # imported records are never exported


def test_import_one_by_its_remote_id(connector, crm, capsys):
    # the command of the issue and the README, as a user types it
    call_command(
        "run_algorithm", "crm_demo.do_import_contact", "--input", '{"remote_id": "42"}', "--sync"
    )
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "completed", out
    assert out["result"]["raw_data"] == crm.contacts[42]
    assert list(contacts()) == ["42"]
    # the seed's form: the options object
    algorithm = Algorithm.objects.get(namespace__name="crm_demo", name="do_import_contact")
    task = algorithm_run(algorithm=algorithm, arguments={"options": {"remote_id": "7"}}, sync=True)
    assert task.status == Task.Status.COMPLETED
    assert task.result["raw_data"] == crm.contacts[7]
    assert sorted(contacts()) == ["42", "7"]


def test_created_then_updated_record_is_exported_once_each(connector, crm, api):
    import_all()
    before = len(crm.requests)
    answer = api.post(
        "/api/v2/crm_demo/Contact/",
        {"remote_id": "PENDING-PUBLISH-FROM-test-1", "raw_data": {"first_name": "Ada",
                                                                  "email": "ada@example.com"}},
        format="json",
    )  # fmt: skip
    assert answer.status_code == 201, answer.content
    run_pending()
    posts = crm.of("POST")
    assert len(posts) == 1
    assert posts[0]["body"] == {"first_name": "Ada", "email": "ada@example.com"}
    new_id = str(max(crm.contacts))
    stored = contacts()
    assert "PENDING-PUBLISH-FROM-test-1" not in stored  # it took the server's id
    assert stored[new_id]["raw_data"]["first_name"] == "Ada"
    assert stored[new_id]["last_source"] == FROM_API

    changed = {**stored[new_id], "raw_data": {**stored[new_id]["raw_data"], "first_name": "Ade"},
               "last_source": "API"}  # fmt: skip
    answer = api.put(f"/api/v2/crm_demo/Contact/{new_id}/", changed, format="json")
    assert answer.status_code == 200, answer.content
    run_pending()
    puts = crm.of("PUT")
    assert len(puts) == 1 and puts[0]["path"] == f"/contacts/{new_id}"
    assert puts[0]["body"]["first_name"] == "Ade"
    assert len(crm.of("POST")) == 1  # still one create

    import_all()  # the import brings the exported records back: nothing is sent again
    assert len(crm.of("POST")) == 1 and len(crm.of("PUT")) == 1
    assert len(contacts()) == 1001
    assert len(crm.requests) > before


def test_unchanged_record_is_skipped_with_a_notification(connector, crm, api):
    import_all()
    record = contacts()["7"]
    answer = api.put("/api/v2/crm_demo/Contact/7/", {**record, "last_source": "API"}, format="json")
    assert answer.status_code == 200
    run_pending()
    assert not crm.of("PUT")
    assert Notification.objects.filter(message__contains="Contact 7 is unchanged").exists()


def test_remote_error_fails_the_task_with_status_and_message(connector, crm, api):
    crm.errors.append((422, {"message": "email is not valid"}))
    api.post(
        "/api/v2/crm_demo/Contact/",
        {"remote_id": "PENDING-PUBLISH-FROM-bad", "raw_data": {"email": "nope"}},
        format="json",
    )
    tasks = run_pending()
    assert [t.status for t in tasks] == [Task.Status.FAILED]
    error = tasks[0].executions.get().error
    assert "HTTP 422" in error and "email is not valid" in error
    assert "PENDING-PUBLISH-FROM-bad" in contacts()  # kept, to export again later


def test_two_changes_close_together_make_one_create(connector, crm, api):
    record = {"remote_id": "PENDING-PUBLISH-FROM-twice", "raw_data": {"first_name": "Bo"}}
    api.post("/api/v2/crm_demo/Contact/", record, format="json")
    record["raw_data"] = {"first_name": "Bob"}
    api.put("/api/v2/crm_demo/Contact/PENDING-PUBLISH-FROM-twice/", record, format="json")
    assert Task.objects.filter(status=Task.Status.PENDING).count() == 2
    run_pending()
    assert len(crm.of("POST")) == 1 and crm.of("POST")[0]["body"] == {"first_name": "Bob"}
    assert not crm.of("PUT")


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ({"body_shape": "wrapped"}, {"data": [{"first_name": "Cy"}]}),
        ({"body_shape": "wrapped", "wrap_key": "contact"}, {"contact": [{"first_name": "Cy"}]}),
        ({"body_shape": "template", "body_template": '{"name": "{{ raw_data.first_name }}"}'},
         {"name": "Cy"}),
    ],
)  # fmt: skip
def test_the_export_body_takes_the_shape_of_the_spec(db, crm, admin_user, api, shape, expected):
    spec = contact_spec(crm.url)
    spec["resources"][0]["export"].update(shape, id_path="data[0].details.id")
    connector_generate(spec=spec, actor=admin_user)
    record = {"remote_id": "PENDING-PUBLISH-FROM-shape", "raw_data": {"first_name": "Cy"}}
    assert api.post("/api/v2/crm_demo/Contact/", record, format="json").status_code == 201
    run_pending()
    (post,) = crm.of("POST")
    assert post["body"] == expected
    assert post["headers"]["Content-Type"].startswith("application/json")
    assert list(contacts()) == ["1001"]


def test_incremental_import_asks_only_for_changes_since_the_last_one(db, crm, admin_user):
    spec = contact_spec(crm.url)
    spec["resources"][0]["import"]["incremental"] = {
        "param": "updated_since", "cursor_field": "updated_at"}  # fmt: skip
    connector_generate(spec=spec, actor=admin_user)
    first = import_all()
    assert first.result["cursor"] == "2026-01-01T00:00:59Z" and first.result["imported"] == 1000
    assert all("updated_since" not in r["query"] for r in crm.of("GET"))
    crm.contacts[5] = {**crm.contacts[5], "email": "new@example.com",
                       "updated_at": "2026-02-01T00:00:00Z"}  # fmt: skip
    before = len(crm.of("GET"))
    second = import_all()
    asked = crm.of("GET")[before:]
    assert [r["query"]["updated_since"] for r in asked] == [["2026-01-01T00:00:59Z"]]
    assert second.result == {"imported": 1, "pages": 1, "cursor": "2026-02-01T00:00:00Z"}
    assert contacts()["5"]["raw_data"]["email"] == "new@example.com"


def test_the_import_flow_imports_every_record_in_lots(connector, crm):
    from apps.workflows.models import Flow
    from apps.workflows.services import flow_enqueue

    flow = Flow.objects.get(namespace__name="crm_demo", name="import_contacts")
    task = flow_enqueue(flow=flow, reason="on demand")
    tasks = run_pending()
    assert {t.pk for t in tasks} == {task.pk}
    task.refresh_from_db()
    assert task.status == Task.Status.COMPLETED
    assert task.result == {"result": {"imported": 1000, "pages": 10}}
    assert len(contacts()) == 1000 and not crm.of("POST")


def test_import_options_go_at_the_top_of_the_input_or_in_options(connector, crm):
    task = import_all(pages_per_run=3)  # run_again after every 3 pages
    assert task.result == {"imported": 1000, "pages": 10}
    assert task.executions.count() == 4  # 3 + 3 + 3 + 1 pages
    assert len(contacts()) == 1000
    again = import_all(options={"pages_per_run": 5})
    assert again.result == {"imported": 1000, "pages": 10} and again.executions.count() == 2
    assert len(contacts()) == 1000


@pytest.mark.parametrize("remote_id", [None, ""])
def test_a_record_without_remote_id_is_created_remotely(connector, crm, api, remote_id):
    """The issue: remote_id empty (or absent) is a record to create, like PENDING-PUBLISH-FROM."""
    record = {"raw_data": {"first_name": "Grace", "email": "grace@example.com"}}
    if remote_id is not None:
        record["remote_id"] = remote_id
    answer = api.post("/api/v2/crm_demo/Contact/", record, format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["key"].startswith("PENDING-PUBLISH-FROM-")
    run_pending()
    posts = crm.of("POST")
    assert len(posts) == 1 and posts[0]["body"] == record["raw_data"]
    new_id = str(max(crm.contacts))
    assert list(contacts()) == [new_id]  # the pending record took the server's id
    assert contacts()[new_id]["raw_data"]["first_name"] == "Grace"


def test_a_create_answered_500_is_sent_once_not_retried(connector, crm, api):
    """The API may have created it before failing: a second POST could make a duplicate."""
    crm.errors.append((500, {"message": "saved, then failed"}))
    api.post("/api/v2/crm_demo/Contact/", {"raw_data": {"first_name": "Once"}}, format="json")
    tasks = run_pending()
    assert len(crm.of("POST")) == 1
    assert [t.status for t in tasks] == [Task.Status.FAILED]
    error = tasks[0].executions.get().error
    assert "HTTP 500" in error and "not sent again" in error
    assert f"POST {crm.url}/contacts answered HTTP 500" in error and "saved, then failed" in error
    assert error.startswith(
        "Algorithm crm_demo.do_export_contact, line 12: Algorithm crm_demo.do_create_contact,"
    )
    assert "RuntimeError" not in error  # the call chain, without a wrapper per level


def test_an_unchanged_record_put_without_its_hmac_is_not_exported(connector, crm, api):
    import_all()
    record = contacts()["7"]
    body = {"remote_id": "7", "raw_data": record["raw_data"]}  # what a client sends back
    assert api.put("/api/v2/crm_demo/Contact/7/", body, format="json").status_code == 200
    run_pending()
    assert not crm.of("PUT")
    assert Notification.objects.filter(message__contains="Contact 7 is unchanged").exists()


def _import_fails(spec, admin_user, crm) -> str:
    connector_generate(spec=spec, actor=admin_user)
    algorithm = Algorithm.objects.get(namespace__name="crm_demo", name="do_import_contacts")
    task = algorithm_run(algorithm=algorithm, arguments={}, sync=True)
    run_pending()
    task.refresh_from_db()
    assert task.status == Task.Status.FAILED
    assert not contacts()
    return task.executions.last().error


def test_a_records_path_that_matches_nothing_fails_the_import_saying_where(db, crm, admin_user):
    spec = contact_spec(crm.url)
    spec["resources"][0]["import"]["records_path"] = "items"
    error = _import_fails(spec, admin_user, crm)
    assert "the records path 'items' matches nothing in the answer (its fields: data, info)" in (
        error
    )
    assert "/contacts?" in error


def test_records_without_their_primary_key_fail_the_import_saying_why(db, crm, admin_user):
    spec = contact_spec(crm.url)
    spec["resources"][0]["primary_key"] = "uuid"
    error = _import_fails(spec, admin_user, crm)
    assert "100 of the 100 contacts of this page could not be stored" in error
    assert "100 without the primary key 'uuid'" in error
