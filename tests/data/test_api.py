"""The REST API of the data app: setup endpoints and records."""

import pytest
from rest_framework.test import APIClient

from apps.data.models import Namespace, Record

SCHEMA = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "vip": {"type": "boolean"},
        "address": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.fixture
def contact_type(api, namespace):
    response = api.post(
        "/api/v2/setup/data_type/",
        {"namespace": "crm", "name": "Contact", "primary_key": "id", "schema": SCHEMA},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def people(n):
    cities = ["Paris", "Lima", "Oslo"]
    return [
        {
            "id": i,
            "name": f"P{i}",
            "age": 20 + i,
            "vip": i % 2 == 0,
            "address": {"city": cities[i % 3]},
        }
        for i in range(n)
    ]


def test_anonymous_gets_401_and_a_token_works(db, admin_user, client):
    assert APIClient().get("/api/v2/setup/namespace/").status_code == 401
    response = APIClient().post(
        "/api/v2/auth/token/", {"username": "admin", "password": "admin-Passw0rd!"}, format="json"
    )
    token = response.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v2/setup/namespace/").status_code == 200


def test_create_data_type_and_reject_bad_schema(api, namespace, contact_type):
    assert contact_type["records_url"] == "/api/v2/crm/Contact/"
    assert contact_type["schema_version"] == 1
    bad = api.post(
        "/api/v2/setup/data_type/",
        {"namespace": "crm", "name": "Bad", "schema": {"type": "objet"}},
        format="json",
    )
    assert bad.status_code == 400
    assert "schema['type']" in str(bad.json())
    missing = api.post(
        "/api/v2/setup/data_type/",
        {"namespace": "nope", "name": "X", "schema": {}},
        format="json",
    )
    assert missing.status_code == 400 and "namespace" in missing.json()
    duplicate = api.post(
        "/api/v2/setup/data_type/",
        {"namespace": "crm", "name": "Contact", "schema": {}},
        format="json",
    )
    assert duplicate.status_code == 400


def test_records_crud_by_key(api, contact_type):
    url = "/api/v2/crm/Contact/"
    created = api.post(url, {"id": 7, "name": "Ann"}, format="json")
    assert created.status_code == 201 and created.json()["key"] == "7"
    assert api.get(url + "7/").json()["data"] == {"id": 7, "name": "Ann"}
    assert api.put(url + "7/", {"id": 7, "name": "Anna"}, format="json").status_code == 200
    patched = api.patch(url + "7/", {"age": 30}, format="json")
    assert patched.json()["data"] == {"id": 7, "name": "Anna", "age": 30}
    wrong_key = api.put(url + "7/", {"id": 8, "name": "x"}, format="json")
    assert wrong_key.status_code == 400 and "differs" in str(wrong_key.json())
    invalid = api.patch(url + "7/", {"age": "old"}, format="json")
    assert invalid.status_code == 400
    assert '$.age: "old" is not of type "integer"' in invalid.json()["data"][0]
    assert Record.objects.get(key="7").data["age"] == 30  # nothing lost
    assert api.delete(url + "7/").status_code == 204
    assert api.get(url + "7/").status_code == 404
    # PUT at a key nobody stored yet creates the record there (HTTP's PUT: 201).
    put_new = api.put(url + "9/", {"id": 9, "name": "Nia"}, format="json")
    assert put_new.status_code == 201 and put_new.json()["key"] == "9"
    assert api.get(url + "9/").json()["data"] == {"id": 9, "name": "Nia"}
    mismatch = api.put(url + "10/", {"id": 11, "name": "x"}, format="json")
    assert mismatch.status_code == 400 and "differs" in str(mismatch.json())
    assert not Record.objects.filter(key__in=["10", "11"]).exists()


def test_put_at_a_new_key_of_a_type_with_generated_keys_says_how_to_create(api, namespace):
    api.post(
        "/api/v2/setup/data_type/",
        {"namespace": "crm", "name": "Note", "schema": {"type": "object"}, "primary_key": ""},
        format="json",
    )
    response = api.put("/api/v2/crm/Note/n-1/", {"text": "hi"}, format="json")
    assert response.status_code == 404 and "generated: POST" in response.json()["detail"]
    assert not Record.objects.exists()


def test_bulk_create_reports_per_item_errors(api, contact_type):
    response = api.post(
        "/api/v2/crm/Contact/",
        [{"id": 1}, {"id": "two"}, {"name": "no id"}, {"id": 3}],
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["invalid"]) == (2, 2)
    assert body["errors"][0]["index"] == 1
    assert body["errors"][0]["errors"][0]["path"] == "$.id"
    all_bad = api.post("/api/v2/crm/Contact/", [{"id": "x"}], format="json")
    assert all_bad.status_code == 400
    # The same key twice in one list: the last is stored, and the count says so.
    twice = api.post("/api/v2/crm/Contact/", [{"id": 7}, {"id": 7, "name": "b"}], format="json")
    assert (twice.json()["created"], twice.json()["duplicates"]) == (1, 1)


def test_list_paginates_and_filters_on_data(api, contact_type):
    api.post("/api/v2/crm/Contact/", people(30), format="json")
    page = api.get("/api/v2/crm/Contact/?page_size=10&page=2").json()
    assert page["count"] == 30 and len(page["results"]) == 10 and page["next"]
    paris = api.get("/api/v2/crm/Contact/?address__city=Paris&page_size=100").json()
    assert paris["count"] == 10
    assert {r["data"]["address"]["city"] for r in paris["results"]} == {"Paris"}
    older = api.get("/api/v2/crm/Contact/?age__gte=45").json()
    assert sorted(r["data"]["id"] for r in older["results"]) == [25, 26, 27, 28, 29]
    vip_lima = api.get("/api/v2/crm/Contact/?vip=true&address__city=Lima").json()
    assert sorted(r["data"]["id"] for r in vip_lima["results"]) == [4, 10, 16, 22, 28]
    assert api.get("/api/v2/crm/Contact/?age=old").status_code == 400
    named = api.get("/api/v2/crm/Contact/?name__in=P1,P2").json()
    assert named["count"] == 2


def test_unknown_namespace_or_type_is_404(api, contact_type):
    assert api.get("/api/v2/nope/Contact/").status_code == 404
    assert api.get("/api/v2/crm/Nope/").status_code == 404
    assert api.post("/api/v2/crm/Nope/", {"id": 1}, format="json").status_code == 404


def test_permissions_per_namespace(api, api_as, make_user, grant, namespace, contact_type):
    api.post("/api/v2/crm/Contact/", people(3), format="json")
    stranger = api_as(make_user("mallory"))
    assert stranger.get("/api/v2/crm/Contact/").status_code == 404
    assert stranger.get(f"/api/v2/setup/data_type/{contact_type['id']}/").status_code == 404
    assert stranger.get("/api/v2/setup/data_type/").json()["count"] == 0
    assert stranger.post("/api/v2/setup/namespace/", {"name": "mine"}).status_code == 403

    reader_user = make_user("reader")
    grant(reader_user, namespace)
    reader = api_as(reader_user)
    assert reader.get("/api/v2/crm/Contact/").json()["count"] == 3
    assert reader.post("/api/v2/crm/Contact/", {"id": 99}, format="json").status_code == 403
    assert reader.delete("/api/v2/crm/Contact/1/").status_code == 403
    patch = reader.patch(
        f"/api/v2/setup/data_type/{contact_type['id']}/", {"title": "x"}, format="json"
    )
    assert patch.status_code == 403

    writer_user = make_user("writer")
    grant(writer_user, namespace, change=True)
    writer = api_as(writer_user)
    assert writer.post("/api/v2/crm/Contact/", {"id": 99}, format="json").status_code == 201
    assert Record.objects.filter(key="99").exists()


def test_openapi_schema_and_docs(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v2/setup/data_type/" in schema.json()["paths"]
    assert api.get("/api/docs/").status_code == 200


def test_reserved_namespace_names(api):
    for name in ("setup", "connector_factory"):  # the API's own paths
        response = api.post("/api/v2/setup/namespace/", {"name": name}, format="json")
        assert response.status_code == 400 and "reserved" in str(response.json()), name
    assert api.post("/api/v2/setup/namespace/", {"name": "shop"}, format="json").status_code == 201


def test_deleting_what_others_use_is_a_409_naming_them(api, namespace, contact_type):
    """A DELETE of a data type (or its namespace) that a translator uses was a bare 500."""
    translator = api.post(
        "/api/v2/setup/translator/",
        {"namespace": "crm", "name": "contact_body", "type": "export", "style": "template",
         "source_data_type": {"namespace": "crm", "name": "Contact"}, "template": "{{ name }}"},
        format="json",
    )  # fmt: skip
    assert translator.status_code == 201, translator.json()
    for url in (f"/api/v2/setup/data_type/{contact_type['id']}/",
                f"/api/v2/setup/namespace/{namespace.pk}/"):  # fmt: skip
        response = api.delete(url)
        assert response.status_code == 409, response.content
        assert response["Content-Type"] == "application/json"
        assert "crm.contact_body" in response.json()["detail"]
    # nothing was deleted
    assert api.get(f"/api/v2/setup/data_type/{contact_type['id']}/").status_code == 200
    # once the user is removed, the delete goes through
    assert api.delete(f"/api/v2/setup/translator/{translator.json()['id']}/").status_code == 204
    assert api.delete(f"/api/v2/setup/data_type/{contact_type['id']}/").status_code == 204


def test_an_api_url_without_its_trailing_slash_works(api, namespace, contact_type):
    """POST …/setup/namespace (no slash) was a 500 (APPEND_SLASH's RuntimeError)."""
    response = api.post("/api/v2/setup/namespace", {"name": "shop"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "shop"
    response = api.post("/api/v2/crm/Contact", {"id": 9, "name": "Ann"}, format="json")
    assert response.status_code == 201, response.content
    assert api.get("/api/v2/crm/Contact/9").json()["data"]["name"] == "Ann"
    assert api.delete("/api/v2/crm/Contact/9").status_code == 204
    missing = api.get("/api/v2/nowhere/Contact")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"
    assert "nowhere.Contact" in missing.json()["detail"]


def test_a_form_encoded_record_is_a_415_and_an_unknown_type_says_where(api, contact_type):
    """curl -d without a Content-Type sent a form: 'primary key id is missing' misled."""
    response = api.post(
        "/api/v2/crm/Contact/", '{"id": 9}', content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415, response.content
    assert "application/json" in response.json()["detail"]
    assert not Record.objects.exists()
    for url in ("/api/v2/nope/Contact/", "/api/v2/setup/foo/"):
        response = api.get(url)
        assert response.status_code == 404
        detail = response.json()["detail"]
        assert "No data type" in detail and "/api/v2/" in detail, detail


def test_a_data_type_with_a_new_key_prefix_keys_records_that_come_without_one(api, namespace):
    response = api.post(
        "/api/v2/setup/data_type/",
        {"namespace": "crm", "name": "Lead", "primary_key": "ref", "new_key_prefix": "NEW-",
         "schema": {"type": "object", "properties": {"ref": {"type": "string"}}}},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    saved = api.post("/api/v2/crm/Lead/", [{"name": "a"}, {"ref": "", "name": "b"}], format="json")
    assert saved.status_code == 200 and saved.json()["created"] == 2, saved.content
    keys = sorted(Record.objects.values_list("key", flat=True))
    assert len(set(keys)) == 2 and all(key.startswith("NEW-") for key in keys)
    assert all(r.data["ref"] == r.key for r in Record.objects.all())
    # without the prefix, a missing key is still an error
    api.patch(f"/api/v2/setup/data_type/{response.json()['id']}/", {"new_key_prefix": ""},
              format="json")  # fmt: skip
    missing = api.post("/api/v2/crm/Lead/", {"name": "c"}, format="json")
    assert missing.status_code == 400 and "'ref' is missing" in str(missing.json())


def test_a_name_taken_in_its_namespace_says_which_element_has_it(api, namespace):
    body = {"namespace": "crm", "name": "Contact", "schema": {"type": "object"}}
    assert api.post("/api/v2/setup/data_type/", body, format="json").status_code == 201
    again = api.post("/api/v2/setup/data_type/", body, format="json")
    assert again.status_code == 400
    assert again.json() == {
        "name": ["Data type crm.Contact exists already: choose another name, or change that one."]
    }
    algorithm = {"namespace": "crm", "name": "add", "code": "return 1"}
    assert api.post("/api/v2/setup/algorithm/", algorithm, format="json").status_code == 201
    taken = api.post("/api/v2/setup/algorithm/", algorithm, format="json").json()
    assert taken["name"] == [
        "Algorithm crm.add exists already: choose another name, or change that one."
    ]


def test_bulk_delete_by_filter_or_all(api, api_as, make_user, grant, contact_type):
    url = "/api/v2/crm/Contact/"
    body = [{"id": i, "name": "old" if i < 3 else "new"} for i in range(6)]
    assert api.post(url, body, format="json").status_code == 200
    bare = api.delete(url)
    assert bare.status_code == 400 and "?all=1" in str(bare.json()["all"])
    assert Record.objects.count() == 6  # a bare DELETE removes nothing
    assert api.delete(url + "?name=old").json() == {"deleted": 3}
    assert sorted(Record.objects.values_list("key", flat=True)) == ["3", "4", "5"]
    assert api.delete(url + "?id__frob=1").status_code == 400  # a bad filter deletes nothing
    assert "not ?all=yes" in str(api.delete(url + "?all=yes").json())
    viewer = make_user("viewer")
    grant(viewer, Namespace.objects.get(name="crm"))
    assert api_as(viewer).delete(url + "?all=1").status_code == 403
    assert api.delete(url + "?all=1").json() == {"deleted": 3}
    assert not Record.objects.exists()


def test_a_schema_change_says_how_many_stored_records_no_longer_fit(api, contact_type):
    records = [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bob"}, {"id": 3}]
    assert api.post("/api/v2/crm/Contact/", records, format="json").status_code == 200
    url = f"/api/v2/setup/data_type/{contact_type['id']}/"
    stricter = {"type": "object", "required": ["name"], "properties": {"id": {"type": "integer"}}}
    changed = api.patch(url, {"schema": stricter}, format="json")
    assert changed.status_code == 200
    assert changed.json()["warnings"] == [
        "1 of 3 stored record(s) of crm.Contact no longer fit its schema (first: key 3: "
        '$: "name" is a required property). They stay as they are; writing one again checks '
        "it against the new schema."
    ]
    assert Record.objects.count() == 3  # nothing lost
    same = api.patch(url, {"title": "People"}, format="json")
    assert "warnings" not in same.json()  # the schema did not change


def test_the_primary_key_of_a_type_holding_records_cannot_change(api, contact_type):
    url = f"/api/v2/setup/data_type/{contact_type['id']}/"
    assert api.patch(url, {"primary_key": "name"}, format="json").status_code == 200  # empty
    assert api.patch(url, {"primary_key": "id"}, format="json").status_code == 200
    assert (
        api.post("/api/v2/crm/Contact/", {"id": 1, "name": "Ann"}, format="json").status_code == 201
    )
    refused = api.patch(url, {"primary_key": "name"}, format="json")
    assert refused.status_code == 400
    assert "holds 1 record(s) keyed by 'id'" in refused.json()["primary_key"][0]
    assert api.get(url).json()["primary_key"] == "id"
    assert api.patch(url, {"title": "People"}, format="json").status_code == 200  # same key
