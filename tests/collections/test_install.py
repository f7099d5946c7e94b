"""Installing documents: damaged ones are refused by path and change nothing; the plan is
what the install does; an install stopped half-way leaves nothing; upgrades remove."""

import copy
import json

import pytest
from django.apps import apps
from django.db.models import Model

from apps.collections.document import CollectionError
from apps.collections.kinds import KINDS, Kind
from apps.collections.models import Collection
from apps.collections.services import (
    collection_build,
    collection_export,
    collection_install,
    collection_plan,
)
from apps.data.models import Namespace, Record
from apps.workflows.models import Algorithm, Event, Flow, Translator
from tests.collections.conftest import SECRETS, bundle


def row_counts() -> dict[str, int]:
    """Rows of every table: what 'changes nothing' is checked against."""
    return {m._meta.label: m._base_manager.count() for m in apps.get_models()}


@pytest.fixture
def document(integration, namespace) -> dict:
    """The integration's document, and a database holding none of it (installation B)."""
    data = collection_export(collection=bundle(namespace))
    Collection.objects.all().delete()
    for kind in reversed(KINDS):  # what refers to others first: references are protected
        kind.objects.all().delete()
    Namespace.objects.all().delete()
    assert not Flow.objects.exists()
    return json.loads(data)


def index(document: dict, plural: str, name: str) -> int:
    return next(i for i, item in enumerate(document[plural]) if item["name"] == name)


def refused(document, **options) -> list[str]:
    before = row_counts()
    with pytest.raises(CollectionError) as caught:
        collection_install(document, secrets=SECRETS, **options)
    assert row_counts() == before
    return [str(p) for p in caught.value.problems]


def test_a_missing_reference_names_the_element_that_refers(document):
    i = index(document, "flows", "import_contacts")
    document["flows"][i]["translator"] = "crm.parse_everything"
    assert refused(document) == [
        f"$.flows[{i}].translator: flow crm.import_contacts refers to translator "
        "crm.parse_everything, which the document does not hold"
    ]


def test_a_wrong_type_an_unknown_kind_and_an_unknown_field(document):
    i = index(document, "flows", "convert_contacts")
    document["flows"][i]["lot_size"] = "ten"
    document["widgets"] = []
    document["webhooks"][0]["colour"] = "blue"
    assert refused(document) == [
        f"$.flows[{i}].lot_size: 'ten' is not of type 'integer'",
        "$.webhooks[0].colour: unknown field 'colour' of a webhook",
        "$.widgets: unknown element kind 'widgets'; a document lists authorization_providers, "
        "authorization_clients, authorizations, data_types, connections, webhooks, "
        "connection_roles, algorithms, translators, observers, schedulers, flows and records",
    ]


def test_a_duplicate_name(document):
    document["data_types"].append(copy.deepcopy(document["data_types"][0]))
    last = len(document["data_types"]) - 1
    assert refused(document) == [
        f"$.data_types[{last}].name: crm.Contact is named twice: $.data_types[0] has the same "
        "namespace and name"
    ]


def test_an_invalid_schema_and_bad_algorithm_source_say_where(document):
    document["data_types"][0]["schema"] = {"type": "strin"}
    i = index(document, "algorithms", "country_name")
    document["algorithms"][i]["code"] = "x = 1\nreturn (x"
    problems = refused(document)
    assert len(problems) == 2, problems
    assert problems[0].startswith(f"$.algorithms[{i}].code: algorithm crm.country_name: line 2")
    assert problems[1].startswith("$.data_types[0].schema: data type crm.Contact: ")
    assert "'strin' is not valid" in problems[1]


def test_secrets_are_placeholders_and_a_missing_one_is_named(document):
    assert document["secrets"]["crm.system_b_token.token"] == {
        "kind": "authorization",
        "element": "crm.system_b_token",
        "field": "token",
        "description": "Bearer: the token.",
        "required": True,
    }
    i = index(document, "authorizations", "system_b_token")
    assert document["authorizations"][i]["token"] == {"$secret": "crm.system_b_token.token"}
    before = row_counts()
    with pytest.raises(CollectionError) as caught:
        collection_install(document, secrets={"crm.partner_client.client_secret": "x"})
    assert [str(p) for p in caught.value.problems] == [
        f"$.authorizations[{i}].token: the secret 'crm.system_b_token.token' (authorization "
        "crm.system_b_token: token) was not given"
    ]
    with pytest.raises(CollectionError, match=r"'crm\.typo' is not a secret of this document"):
        collection_install(document, secrets={**SECRETS, "crm.typo": "x"})
    assert row_counts() == before
    plan = collection_plan(document)  # a dry run lists them instead
    assert plan.missing_secrets == ["crm.partner_client.client_secret", "crm.system_b_token.token"]


def test_an_install_stopped_by_an_invalid_last_element_leaves_nothing(document):
    i = index(document, "flows", "export_customers")
    document["flows"][i]["webhook"] = None  # an export flow needs one: refused on save
    assert refused(document) == [
        f"$.flows[{i}].webhook: flow crm.export_customers: An export flow calls a webhook."
    ]


def test_an_install_interrupted_half_way_by_a_crash_leaves_nothing(document, monkeypatch):
    saved = []
    original = Kind.save

    def crash_at_the_tenth(self, **kwargs) -> Model:
        if len(saved) == 10:
            raise ConnectionError("the database went away")
        saved.append(self.name)
        return original(self, **kwargs)

    monkeypatch.setattr(Kind, "save", crash_at_the_tenth)
    before = row_counts()
    with pytest.raises(ConnectionError):
        collection_install(document, secrets=SECRETS, activate=True)
    assert len(saved) == 10 and row_counts() == before


def test_the_plan_is_what_the_install_does(document):
    first = collection_install(document, secrets=SECRETS)
    assert first.plan.counts["create"] == 23
    # Version 1.1.0: one flow changes, one is gone (with its translator), one algorithm is new.
    newer = copy.deepcopy(document)
    newer["version"] = "1.1.0"
    i = index(newer, "flows", "convert_contacts")
    newer["flows"][i]["lot_size"] = 50
    newer["flows"][i]["description"] = "Contacts become customers."
    del newer["flows"][index(newer, "flows", "import_contacts")]
    del newer["translators"][index(newer, "translators", "parse_contacts")]
    newer["algorithms"].append(
        {"namespace": "crm", "name": "hello", "code": "return 'hello'", "parameters": []}
    )
    newer["records"]["crm.Country"][0]["name"] = "Argentine Republic"
    before = row_counts()
    plan = collection_plan(newer)
    assert row_counts() == before
    done = collection_install(newer)
    assert done.plan.as_dict() == plan.as_dict()
    steps = {
        (s.action, s.kind, s.element): s.changes for s in plan.steps if s.action != "unchanged"
    }
    assert steps == {
        ("update", "flow", "crm.convert_contacts"): ["description", "lot_size"],
        ("create", "algorithm", "crm.hello"): [],
        ("remove", "flow", "crm.import_contacts"): [],
        ("remove", "translator", "crm.parse_contacts"): [],
    }
    assert (plan.records[0].created, plan.records[0].updated, plan.records[0].unchanged) == (
        0,
        1,
        1,
    )
    # ... and the database says the same.
    assert Flow.objects.get(name="convert_contacts").lot_size == 50
    assert Algorithm.objects.filter(name="hello").exists()
    assert not Flow.objects.filter(name="import_contacts").exists()
    assert not Translator.objects.filter(name="parse_contacts").exists()
    assert Record.objects.get(key="AR").data["name"] == "Argentine Republic"
    assert Collection.objects.get().version == "1.1.0"
    assert collection_install(newer).plan.changes_anything is False


def test_an_older_version_is_refused_unless_forced(document):
    newer = copy.deepcopy(document)
    newer["version"] = "2.0.0"
    collection_install(newer, secrets=SECRETS)
    assert refused(document) == [
        "$.version: 1.0.0 is older than the installed crm_sync 2.0.0; force the install to go "
        "back to it"
    ]
    assert collection_install(document, force=True).collection.version == "1.0.0"


def test_schedulers_and_observers_arrive_inactive_unless_activated(document):
    plan = collection_install(document, secrets=SECRETS).plan
    assert not Event.objects.filter(active=True).exists()
    scheduler = Event.objects.get(name="import_schedule")
    assert scheduler.periodic_task is not None and not scheduler.periodic_task.enabled
    inactive = "arrives inactive; activate to start it"
    assert {s.element: s.note for s in plan.steps if s.note} == {
        "crm.contact_changed": inactive,
        "crm.customer_changed": inactive,
        "crm.import_schedule": inactive,
    }
    collection_install(document)  # again, not activated: stays as it is
    assert not Event.objects.filter(active=True).exists()
    plan = collection_install(document, activate=True).plan
    assert {s.element for s in plan.steps if s.action == "update"} == {
        "crm.contact_changed",
        "crm.customer_changed",
        "crm.import_schedule",
    }
    assert Event.objects.filter(active=True).count() == 3
    scheduler.refresh_from_db()
    assert scheduler.periodic_task.enabled


def test_an_element_another_collection_holds_is_kept_and_one_still_used_is_not_removed(
    document,
):
    from apps.collections.services import collection_add, collection_save

    collection_install(document, secrets=SECRETS)
    shared = collection_save(name="shared")
    collection_add(collection=shared, elements=[Algorithm.objects.get(name="describe")])
    newer = copy.deepcopy(document)
    newer["version"] = "1.1.0"
    del newer["algorithms"][index(newer, "algorithms", "describe")]
    plan = collection_install(newer).plan
    assert [s.line() for s in plan.steps if s.action == "keep"] == [
        "keep algorithm crm.describe (collection shared holds it too)"
    ]
    assert Algorithm.objects.filter(name="describe").exists()

    # A flow made outside the collection uses its translator: removing it is refused.
    from apps.workflows.services import element_save

    element_save(
        model=Flow, namespace=Namespace.objects.get(name="crm"), name="mine",
        translator=Translator.objects.get(name="contact_to_customer"),
    )  # fmt: skip
    newest = copy.deepcopy(newer)
    newest["version"] = "1.2.0"
    del newest["flows"][index(newest, "flows", "convert_contacts")]
    del newest["translators"][index(newest, "translators", "contact_to_customer")]
    assert refused(newest) == [
        "$: 1.2.0 no longer holds translator crm.contact_to_customer, which cannot be removed: "
        "crm.mine still use(s) it"
    ]


def test_a_removal_that_would_cascade_to_an_element_outside_the_collection_is_refused(document):
    from apps.data.models import DataType
    from apps.workflows.models import Observer
    from apps.workflows.services import element_save

    collection_install(document, secrets=SECRETS)
    country = DataType.objects.get(name="Country")
    element_save(
        model=Observer, namespace=country.namespace, name="watch_countries", kind="observer",
        data_type=country,
    )  # fmt: skip
    newer = copy.deepcopy(document)
    newer["version"] = "1.1.0"
    del newer["data_types"][index(newer, "data_types", "Country")]
    del newer["records"]
    for plural, name in [("algorithms", "describe"), ("algorithms", "country_name")]:
        del newer[plural][index(newer, plural, name)]
    assert refused(newer) == [
        "$: 1.1.0 no longer holds data type crm.Country, which cannot be removed: removing it "
        "would also delete observer crm.watch_countries"
    ]
    Observer.objects.get(name="watch_countries").delete()
    plan = collection_install(newer).plan
    assert [s.line() for s in plan.steps if s.action == "remove"] == [
        "remove algorithm crm.country_name",
        "remove algorithm crm.describe",
        "remove data_type crm.Country (with its 2 record(s))",
    ]
    assert not DataType.objects.filter(name="Country").exists()


def test_an_install_may_not_lend_another_namespaces_credentials(make_user, grant):
    """carol may view bob's namespace, not change it: a document whose connection (in her
    own namespace) uses bob's authorization is refused, and nothing is written."""
    from apps.gateway.services import connection_save
    from apps.security.services import authorization_save

    bns, cns = Namespace.objects.create(name="bns"), Namespace.objects.create(name="cns")
    basic = authorization_save(
        namespace=bns, name="basic", kind="basic", username="bob", password="bobs-secret"
    )
    # The document is made while only the operator may change either namespace.
    stolen = connection_save(
        namespace=cns, name="steal", base_url="http://127.0.0.1:9/", authorization=basic
    )
    collection = collection_build(name="steal", elements=[stolen]).collection
    document = json.loads(collection_export(collection=collection))
    document["authorizations"] = []  # point at bob's stored one instead of shipping it
    document["secrets"] = {}
    stolen.delete()
    collection.delete()
    carol = make_user("carol")
    grant(carol, cns, change=True)
    grant(carol, bns)
    before = row_counts()
    with pytest.raises(CollectionError) as refused:
        collection_install(document, user=carol)
    # A document holds what it refers to: it cannot borrow a stored authorization...
    (problem,) = refused.value.problems
    assert problem.path == "$.connections[0].authorization" and "bns.basic" in problem.message
    assert row_counts() == before
    # ...and shipping bob's authorization in it would change bob's namespace: refused too.
    shipped_collection = collection_build(name="bobs", elements=[basic]).collection
    shipped = json.loads(collection_export(collection=shipped_collection))
    shipped_collection.delete()
    before = row_counts()
    with pytest.raises(CollectionError, match="bns"):
        collection_install(shipped, user=carol, secrets={"bns.basic.password": "mine"})
    assert row_counts() == before
