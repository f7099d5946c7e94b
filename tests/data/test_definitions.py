"""The definitions token: every element write changes it, record writes do not; the cache
holds until it changes, whichever process changed it."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.data import definitions
from apps.data.definitions import cached, definitions_token
from apps.data.models import Record
from apps.data.services import data_type_save, namespace_get_or_create, records_save
from apps.gateway.models import ConnectionRole
from apps.gateway.services import connection_save

SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}}}

pytestmark = pytest.mark.django_db


@pytest.fixture
def namespace():
    return namespace_get_or_create(name="defs")


def test_element_writes_change_the_token_and_record_writes_do_not(namespace):
    before = definitions_token()
    data_type = data_type_save(namespace=namespace, name="Thing", schema=SCHEMA)
    after_type = definitions_token()
    assert after_type not in (None, before)
    records_save(data_type=data_type, records=[{"id": 1}, {"id": 2}])
    Record.objects.filter(key="1").delete()
    assert definitions_token() == after_type
    conn = connection_save(namespace=namespace, name="api", base_url="http://127.0.0.1:9")
    after_connection = definitions_token()
    assert after_connection != after_type
    role = ConnectionRole.objects.create(namespace=namespace, name="role")
    after_role = definitions_token()
    role.connections.add(conn)  # a many-to-many change
    assert definitions_token() != after_role
    before_delete = definitions_token()
    conn.delete()
    assert definitions_token() != before_delete


def test_the_cache_holds_until_the_definitions_change(namespace):
    built = []

    def build():
        built.append(1)
        return len(built)

    assert cached("thing", build) == 1
    assert cached("thing", build) == 1
    assert len(built) == 1
    namespace.title = "changed"
    namespace.save()
    assert cached("thing", build) == 2


def test_a_change_committed_by_another_process_is_seen(namespace):
    """Another process changes the row (here: the same table written with SQL): the
    cache of this one does not hold any more."""
    assert cached("other", lambda: "old") == "old"
    with connection.cursor() as cursor:
        cursor.execute("UPDATE data_definitions SET token = 'written-elsewhere' WHERE id = 1")
    assert cached("other", lambda: "new") == "new"


def test_without_the_row_nothing_is_cached(namespace):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM data_definitions")
    assert definitions_token() is None
    assert cached("none", lambda: "a") == "a"
    assert cached("none", lambda: "b") == "b"
    definitions.definitions_changed()  # the next element write puts a row back
    assert definitions_token() is not None


def test_an_element_comes_with_what_it_refers_to_and_follows_changes(
    namespace, queries_and_token_reads
):
    from apps.data.definitions import element, one_read
    from apps.gateway.models import Webhook
    from apps.gateway.services import webhook_save

    conn = connection_save(namespace=namespace, name="api", base_url="http://127.0.0.1:9")
    hook = webhook_save(namespace=namespace, name="get", path="items", connection=conn)
    first = element(Webhook, hook.pk)
    with queries_and_token_reads() as (queries, reads), one_read():
        again = element(Webhook, hook.pk)
        assert again is first
        assert again.connection.base_url == "http://127.0.0.1:9"
        assert again.connection.namespace.name == "defs"
    assert len(reads) == 1 and queries == []  # the token, read once; nothing else
    conn.base_url = "http://127.0.0.1:10"
    conn.save()
    assert element(Webhook, hook.pk).connection.base_url == "http://127.0.0.1:10"
