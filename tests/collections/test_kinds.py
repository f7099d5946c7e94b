"""What travels is read from the models: every field travels or the tests say why not."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from apps.collections import kinds
from apps.collections.kinds import KINDS, field_shape
from apps.collections.models import Collection
from apps.collections.schema import SCHEMA_FILE, document_schema, schema_text
from apps.collections.services import collection_add, collection_export, collection_save
from apps.data.api.serializers import DataTypeSerializer
from apps.gateway.api import serializers as gateway
from apps.security import services as security
from apps.security.api import serializers as secure
from apps.security.fields import EncryptedTextField
from apps.security.models import Authorization
from apps.workflows.api import serializers as workflows
from apps.workflows.models import Algorithm
from apps.workflows.services import element_save

API = {
    "authorization_provider": secure.AuthorizationProviderSerializer,
    "authorization_client": secure.AuthorizationClientSerializer,
    "authorization": secure.AuthorizationSerializer,
    "data_type": DataTypeSerializer,
    "connection": gateway.ConnectionSerializer,
    "webhook": gateway.WebhookSerializer,
    "connection_role": gateway.ConnectionRoleSerializer,
    "algorithm": workflows.AlgorithmSerializer,
    "translator": workflows.TranslatorSerializer,
    "observer": workflows.ObserverSerializer,
    "scheduler": workflows.SchedulerSerializer,
    "flow": workflows.FlowSerializer,
}


def test_every_field_of_every_kind_has_a_shape_in_documents():
    for kind in KINDS:
        for model_field in kind.fields:
            field_shape(model_field)  # raises for a field collections cannot write


def test_the_schema_in_the_repo_is_the_one_the_models_give():
    expected = schema_text(document_schema())
    assert SCHEMA_FILE.read_text() == expected, (
        "a model changed: run `.venv/bin/python manage.py collection_schema -o "
        "apps/collections/schema/collection.schema.json` and commit the result"
    )


def test_documents_carry_every_field_the_api_writes():
    assert set(API) == {kind.name for kind in KINDS}
    for kind in KINDS:
        serializer = API[kind.name]()
        writable = {n for n, f in serializer.fields.items() if not f.read_only} - {
            "namespace",
            "name",
        }
        missing = writable - set(kind.field_names)
        assert missing <= set(kind.skip), f"{kind}: the API writes {missing}, documents do not"


def test_every_encrypted_field_is_a_placeholder_or_never_travels():
    for kind in KINDS:
        encrypted = {f.name for f in kind.model._meta.fields if isinstance(f, EncryptedTextField)}
        assert encrypted <= set(kind.secret_fields) | set(kind.skip), kind


def test_no_secret_value_is_ever_in_an_export(namespace):
    """Every encrypted field of every kind holds a canary; none may be in the bytes."""
    provider = security.authorization_provider_save(
        namespace=namespace, name="p", token_url="https://id.test/token"
    )
    client = security.authorization_client_save(
        namespace=namespace, name="c", provider=provider, client_id="app",
        client_secret="canary-client_secret",
    )  # fmt: skip
    canaries = {name: f"canary-{name}" for name in Authorization.SECRET_FIELDS}
    authorization = security.authorization_save(
        namespace=namespace,
        name="all",
        kind="oauth2",
        client=client,
        grant_type="client_credentials",
        **canaries,
    )
    collection = collection_save(name="secrets")
    collection_add(collection=collection, elements=[authorization])
    data = collection_export(collection=collection)
    for value in [*canaries.values(), "canary-client_secret"]:
        assert value.encode() not in data
    document = json.loads(data)
    assert sorted(document["secrets"]) == [
        "crm.all.consumer_secret", "crm.all.key_value", "crm.all.oauth_token",
        "crm.all.oauth_token_secret", "crm.all.password", "crm.all.refresh_token",
        "crm.all.token", "crm.c.client_secret",
    ]  # fmt: skip
    assert "access_token" not in document["authorizations"][0]


def test_algorithms_pull_in_what_they_call_by_name(namespace):
    from apps.data.services import data_type_save

    data_type_save(namespace=namespace, name="Country", schema={"type": "object"})
    helper = element_save(model=Algorithm, namespace=namespace, name="helper", code="return 1")
    caller = element_save(
        model=Algorithm,
        namespace=namespace,
        name="caller",
        code="x = api.run('helper')\napi.records('crm.Country').count()\n"
        "return api.run('other.thing') or x",
    )
    assert sorted(kinds.code_references(caller.code)) == [
        ("algorithm", "helper"), ("algorithm", "other.thing"), ("data_type", "crm.Country"),
    ]  # fmt: skip
    collection = collection_save(name="algos")
    added = collection_add(collection=collection, elements=[caller])
    assert [str(m) for m in added.pulled_in] == ["algorithm crm.helper", "data_type crm.Country"]
    assert helper.pk in collection.members.values_list("object_id", flat=True)


def test_a_deleted_element_leaves_its_collections(namespace):
    helper = element_save(model=Algorithm, namespace=namespace, name="helper", code="return 1")
    collection = collection_save(name="algos")
    collection_add(collection=collection, elements=[helper])
    helper.delete()
    assert not collection.members.exists()


@pytest.mark.parametrize("version", ["1", "1.0", "v1.0.0", "1.0.0.0"])
def test_versions_are_semantic(db, version):
    with pytest.raises(ValidationError, match="semantic version"):
        collection_save(name="x", version=version)
    assert not Collection.objects.exists()


def test_the_schema_command_prints_what_the_repo_holds(capsys):
    call_command("collection_schema")
    assert capsys.readouterr().out == SCHEMA_FILE.read_text()


def test_records_without_a_primary_key_do_not_travel(namespace):
    from apps.data.services import data_type_save

    keyless = data_type_save(
        namespace=namespace, name="Log", schema={"type": "object"}, primary_key=""
    )
    collection = collection_save(name="logs")
    with pytest.raises(ValidationError, match=r"crm\.Log has no primary key"):
        collection_add(collection=collection, elements=[], with_records=[keyless])
    assert not collection.members.exists()
