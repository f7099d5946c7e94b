"""/api/v2/setup/collection/: build, export, plan and install over HTTP, under permissions."""

import json

import pytest

from apps.collections.models import Collection
from apps.collections.schema import stored_schema
from apps.collections.services import collection_add, collection_export
from apps.data.models import Namespace
from apps.data.services import data_type_save
from apps.workflows.models import Flow
from tests.collections.conftest import SECRETS, bundle
from tests.collections.test_install import row_counts

URL = "/api/v2/setup/collection/"


def test_build_a_collection_and_see_what_was_pulled_in(api, integration):
    created = api.post(URL, {"name": "imports", "version": "0.1.0"}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    flow = {"kind": "flow", "namespace": "crm", "name": "import_contacts"}
    added = api.post(f"{URL}{pk}/add/", {"elements": [flow]}, format="json")
    assert added.status_code == 200, added.content
    body = added.json()
    assert [a["element"] for a in body["added"]] == ["crm.import_contacts"]
    pulled = {(p["kind"], p["element"]): p["needed_by"] for p in body["pulled_in"]}
    assert pulled == {
        ("translator", "crm.parse_contacts"): ["flow crm.import_contacts"],
        ("webhook", "crm.get_contacts"): ["flow crm.import_contacts"],
        ("scheduler", "crm.import_schedule"): ["flow crm.import_contacts"],
        ("connection", "crm.system_a"): ["webhook crm.get_contacts"],
        ("data_type", "crm.Contact"): ["translator crm.parse_contacts"],
    }
    detail = api.get(f"{URL}{pk}/").json()
    assert detail["namespaces"] == ["crm"]
    assert [(e["kind"], e["name"], e["pulled_in"]) for e in detail["elements"]][:2] == [
        ("data_type", "Contact", True),
        ("connection", "system_a", True),
    ]
    unknown = {"kind": "flow", "namespace": "crm", "name": "nope"}
    refused = api.post(f"{URL}{pk}/add/", {"elements": [unknown]}, format="json")
    assert refused.status_code == 400
    assert "There is no flow crm.nope that you can see." in json.dumps(refused.json())
    bad = api.post(URL, {"name": "x", "version": "one"}, format="json")
    assert bad.status_code == 400 and "semantic version" in bad.json()["version"][0]


def test_export_plan_install(api, integration, namespace):
    collection = bundle(namespace)
    exported = api.get(f"{URL}{collection.pk}/export/")
    assert exported.status_code == 200
    assert exported["Content-Disposition"] == 'attachment; filename="crm_sync-1.0.0.json"'
    assert exported.content == collection_export(collection=collection)
    document = json.loads(exported.content)

    schema = api.get(f"{URL}schema/")
    assert schema.status_code == 200 and schema.json() == stored_schema()

    document["version"] = "1.0.1"
    document["flows"][0]["lot_size"] = -1
    before = row_counts()
    refused = api.post(f"{URL}install/", {"document": document}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {
        "errors": [{"path": "$.flows[0].lot_size", "message": "-1 is less than the minimum of 1"}]
    }
    assert row_counts() == before
    document["flows"][0]["lot_size"] = 20
    plan = api.post(f"{URL}plan/", {"document": document}, format="json")
    assert plan.status_code == 200, plan.content
    assert plan.json()["counts"] == {"create": 0, "update": 1, "unchanged": 22, "remove": 0,
                                     "keep": 0}  # fmt: skip
    assert row_counts() == before
    installed = api.post(
        f"{URL}install/", {"document": document, "secrets": SECRETS}, format="json"
    )
    assert installed.status_code == 200, installed.content
    assert installed.json()["plan"]["steps"] == plan.json()["steps"]
    assert Collection.objects.get().version == "1.0.1"
    assert Flow.objects.get(name="convert_contacts").lot_size == 20


@pytest.fixture
def viewer(make_user, grant, namespace):
    user = make_user("viewer")
    grant(user, namespace)
    return user


def test_users_see_export_and_install_only_where_their_namespaces_allow(
    api_as, make_user, viewer, integration, namespace, grant
):
    collection = bundle(namespace)
    document = json.loads(collection_export(collection=collection))
    stranger = api_as(make_user("stranger"))
    assert stranger.get(URL).json()["results"] == []
    assert stranger.get(f"{URL}{collection.pk}/export/").status_code == 404

    as_viewer = api_as(viewer)
    assert [c["name"] for c in as_viewer.get(URL).json()["results"]] == ["crm_sync"]
    assert as_viewer.get(f"{URL}{collection.pk}/export/").status_code == 200
    before = row_counts()
    refused = as_viewer.post(f"{URL}install/", {"document": document}, format="json")
    assert refused.status_code == 403
    assert refused.json()["errors"] == [
        {
            "path": "$.name",
            "message": "collection crm_sync is installed and holds elements you may not change",
        }
    ]
    document["name"] = "crm_copy"  # another name: the namespace itself is the obstacle
    refused = as_viewer.post(f"{URL}install/", {"document": document}, format="json")
    assert refused.status_code == 403
    assert refused.json()["errors"][0] == {
        "path": "$.authorization_providers[0].namespace",
        "message": "you may not change namespace 'crm'",
    }
    elsewhere = {
        "format": "collection/1",
        "name": "shop_orders",
        "version": "1.0.0",
        "data_types": [{"namespace": "shop", "name": "Order", "schema": {"type": "object"}}],
    }
    refused = as_viewer.post(f"{URL}install/", {"document": elsewhere}, format="json")
    assert refused.status_code == 403, refused.content
    assert refused.json()["errors"] == [
        {
            "path": "$.data_types[0].namespace",
            "message": "there is no namespace 'shop' and you may not create one",
        }
    ]
    assert row_counts() == before

    # Seeing a namespace is not enough to see a collection that also holds another one.
    other = Namespace.objects.create(name="other")
    foreign = data_type_save(namespace=other, name="X", schema={"type": "object"})
    collection_add(collection=collection, elements=[foreign])
    assert as_viewer.get(URL).json()["results"] == []
    grant(viewer, other)
    assert len(as_viewer.get(URL).json()["results"]) == 1


def test_a_user_who_may_create_namespaces_installs_into_new_ones(api_as, make_user, db):
    from django.contrib.auth.models import Permission

    from apps.data import permissions

    user = make_user("builder")
    user.user_permissions.add(Permission.objects.get(codename="add_namespace"))
    document = {
        "format": "collection/1",
        "name": "shop_orders",
        "version": "1.0.0",
        "data_types": [{"namespace": "shop", "name": "Order", "schema": {"type": "object"}}],
    }
    client = api_as(user)
    installed = client.post(f"{URL}install/", {"document": document}, format="json")
    assert installed.status_code == 201, installed.content
    assert installed.json()["plan"]["namespaces"] == ["shop"]
    assert permissions.can_change(user, Namespace.objects.get(name="shop"))
    listed = client.get(URL).json()["results"]
    assert [(c["name"], c["namespaces"]) for c in listed] == [("shop_orders", ["shop"])]
