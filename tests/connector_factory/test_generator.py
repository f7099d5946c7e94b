"""Generation: idempotent, updates in place, removes what no longer belongs, keeps edits."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from apps.collections.selectors import collection_contents
from apps.connector_factory.generator import connector_generate, connector_plan
from apps.connector_factory.models import Connector
from apps.connector_factory.services import (
    connector_delete,
    connector_elements,
    connector_import_now,
    connector_spec_for_edit,
)
from apps.connector_factory.spec import SpecError
from apps.data.models import DataType, Namespace, Record
from apps.data.services import records_save
from apps.gateway.models import Webhook
from apps.security.models import Authorization, AuthorizationClient
from apps.workflows.models import Algorithm, Flow, Observer, Scheduler, Task

from .specs import contact_spec

OAUTH = {
    "type": "oauth2", "token_endpoint": "https://crm.example.com/oauth/token",
    "client_id": "app-1", "client_secret": "client-SECRET-1", "scopes": "contacts.all",
}  # fmt: skip


def lead(**extra) -> dict:
    return {
        "name": "lead",
        "processes": ["import"],
        "import": {"get_one": {"path": "leads/{{remote_id}}"}, "get_many": {"path": "leads"},
                   **extra},
    }  # fmt: skip


def stamps(namespace: str) -> dict:
    found = {}
    for model in (Algorithm, Webhook, DataType, Flow, Observer, Authorization):
        for element in model._default_manager.filter(namespace__name=namespace):
            found[(model.__name__, element.name)] = element.updated_at
    return found


def test_the_elements_are_those_of_the_plan_and_the_collection_holds_them(db, admin_user):
    spec = contact_spec("https://crm.example.com/v2", **OAUTH)
    spec["resources"].append(lead(schedule="every 15m"))
    result = connector_generate(spec=spec, actor=admin_user)
    plan = connector_plan(spec)
    assert result.elements == plan
    assert sorted(result.created) == sorted(name for _, name in plan)
    connector = result.connector
    assert [e.name for e in connector_elements(connector)] == [name for _, name in plan]
    members = {(m.kind.name, m.element.name) for m in collection_contents(connector.collection)}
    assert members == set(plan)
    contact = DataType.objects.get(namespace__name="crm_demo", name="Contact")
    assert contact.primary_key == "remote_id"
    assert set(contact.schema["properties"]) == {
        "remote_id", "hmac", "last_source", "imported_at", "raw_data"}  # fmt: skip
    assert contact.schema["properties"]["imported_at"]["format"] == "date-time"
    scheduler = Scheduler.objects.get(namespace__name="crm_demo", name="schedule_import_leads")
    assert scheduler.expression == "every 15m" and scheduler.periodic_task.enabled
    flow = Flow.objects.get(namespace__name="crm_demo", name="import_leads")
    assert flow.event_id == scheduler.pk and flow.algorithm.name == "do_import_leads"
    export = Flow.objects.get(namespace__name="crm_demo", name="export_contact")
    assert export.event.name == "handle_contact" and export.discard_events
    assert export.event.trigger_evaluator.name == "trigger_for_change_contact"
    authorization = Authorization.objects.get(namespace__name="crm_demo")
    assert authorization.kind == "oauth2" and authorization.client.name == "default_client"
    assert AuthorizationClient.objects.get(name="default_client").client_secret == "client-SECRET-1"
    # The stored spec and the summary hold no secret.
    assert "client-SECRET-1" not in str(connector.spec) + str(result.as_dict())
    assert connector_spec_for_edit(connector)["authorization"]["client_secret"] == ""
    code = Algorithm.objects.get(name="do_import_contacts").code
    assert len(code.splitlines()) < 30 and 'api.run("do_get_contacts"' in code


def test_the_same_spec_twice_writes_nothing(db, admin_user, django_assert_max_num_queries):
    spec = contact_spec("https://crm.example.com/v2", **OAUTH)
    connector_generate(spec=spec, actor=admin_user)
    before = stamps("crm_demo")
    again = connector_generate(spec=spec, actor=admin_user)
    assert (again.created, again.updated, again.removed, again.kept) == ([], [], [], [])
    assert stamps("crm_demo") == before
    # Secrets left empty (as the wizard sends them on an edit) keep the stored ones.
    edited = contact_spec("https://crm.example.com/v2", **{**OAUTH, "client_secret": ""})
    third = connector_generate(spec=edited, actor=admin_user)
    assert third.updated == []
    assert AuthorizationClient.objects.get(name="default_client").client_secret == "client-SECRET-1"


def test_a_changed_spec_updates_in_place_and_removes_what_no_longer_belongs(db, admin_user):
    spec = contact_spec("https://crm.example.com/v2")
    spec["resources"].append(lead())
    first = connector_generate(spec=spec, actor=admin_user)
    webhook_pk = Webhook.objects.get(namespace__name="crm_demo", name="get_contacts").pk
    leads = DataType.objects.get(namespace__name="crm_demo", name="Lead")
    records_save(data_type=leads, records=[{"remote_id": "1", "raw_data": {"id": 1}}])

    spec["connection"]["base_url"] = "https://crm.example.com/v3"
    spec["resources"][0]["import"]["pagination"]["size"] = 50
    spec["resources"][0]["processes"] = ["import"]
    del spec["resources"][1]
    second = connector_generate(spec=spec, actor=admin_user)
    # Contact: without export, a record posted without remote_id is no longer keyed as pending
    assert sorted(second.updated) == ["Contact", "default_connection", "get_contacts"]
    webhook = Webhook.objects.get(namespace__name="crm_demo", name="get_contacts")
    assert webhook.pk == webhook_pk and webhook.pagination["size"] == 50  # in place
    gone = {
        "create_contact", "update_contact", "do_export_contact", "handle_contact",
        "export_contact", "get_lead", "get_leads", "do_import_leads", "import_leads",
    }  # fmt: skip
    assert gone <= set(second.removed)
    assert not Flow.objects.filter(name__in=["export_contact", "import_leads"]).exists()
    assert second.records_kept == ["Lead"]  # the records of a dropped resource stay
    assert Record.objects.filter(data_type=leads).count() == 1
    members = {m.element.name for m in collection_contents(first.connector.collection)}
    assert "Lead" not in members and "get_leads" not in members

    spec["resources"].append(lead())
    connector_generate(spec=spec, actor=admin_user)
    del spec["resources"][1]
    connector_generate(spec=spec, actor=admin_user, drop_records=True)
    assert not DataType.objects.filter(namespace__name="crm_demo", name="Lead").exists()


def test_an_edited_algorithm_is_kept_and_reported(db, admin_user):
    spec = contact_spec("https://crm.example.com/v2")
    connector_generate(spec=spec, actor=admin_user)
    edited = Algorithm.objects.get(namespace__name="crm_demo", name="parse_2_api_request_contact")
    edited.code = "# mine\nreturn {'contact': record['raw_data']}\n"
    edited.save()
    spec["resources"][0]["export"]["body_shape"] = "wrapped"  # changes that algorithm's code
    result = connector_generate(spec=spec, actor=admin_user)
    assert result.kept == ["parse_2_api_request_contact"]
    edited.refresh_from_db()
    assert edited.code.startswith("# mine")
    assert result.as_dict()["kept"] == ["parse_2_api_request_contact"]


def test_bad_specs_change_nothing(db, admin_user):
    spec = contact_spec("https://crm.example.com/v2")
    connector_generate(spec=spec, actor=admin_user)
    before = stamps("crm_demo")
    spec["resources"][0]["import"]["pagination"]["type"] = "offset"  # page options of offset?
    with pytest.raises(SpecError) as raised:
        connector_generate(spec=spec, actor=admin_user)
    assert raised.value.problems[0].startswith("resources[0].import.pagination.page_param is not")
    assert stamps("crm_demo") == before
    with pytest.raises(SpecError, match="name: a connector is not renamed"):
        from apps.connector_factory.spec import spec_check

        spec_check({**contact_spec("https://x.example.com"), "name": "other"},
                   existing=Connector.objects.get())  # fmt: skip


def test_a_user_generates_only_into_namespaces_they_may_change(db, make_user, grant):
    alice = make_user("alice", is_staff=True)
    with pytest.raises(PermissionDenied, match="create namespace 'crm_demo'"):
        connector_generate(spec=contact_spec("https://crm.example.com"), actor=alice)
    assert not Namespace.objects.filter(name="crm_demo").exists()
    theirs = Namespace.objects.create(name="crm_demo")
    grant(alice, theirs)  # view only
    with pytest.raises(PermissionDenied, match="may not change namespace 'crm_demo'"):
        connector_generate(spec=contact_spec("https://crm.example.com"), actor=alice)
    grant(alice, theirs, change=True)
    result = connector_generate(spec=contact_spec("https://crm.example.com"), actor=alice)
    assert result.connector.namespace == theirs
    bob = make_user("bob")
    with pytest.raises(PermissionDenied):
        connector_delete(connector=result.connector, actor=bob)
    with pytest.raises(PermissionDenied):
        connector_import_now(connector=result.connector, resource="contact", actor=bob)
    task = connector_import_now(connector=result.connector, resource="contact", actor=alice)
    assert task.algorithm.name == "do_import_contacts" and task.status == Task.Status.PENDING
    connector_delete(connector=result.connector, actor=alice)
    assert not Connector.objects.exists() and not Algorithm.objects.exists()
    assert DataType.objects.filter(name="Contact").exists()  # its records stay
