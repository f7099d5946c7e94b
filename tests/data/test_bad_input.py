"""Bad input to the data app's API and admin: 400s and form errors that say what, never 500s."""

import json
import time

import pytest
from django.core.exceptions import ValidationError

from apps.data.models import DataType, Record
from apps.data.services import data_type_save, record_save, records_save
from config.api_urls import setup_urlpatterns

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "codes": {"type": "array", "items": {"type": "integer"}},
        "address": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.fixture
def contacts(namespace):
    data_type = data_type_save(namespace=namespace, name="Contact", schema=SCHEMA)
    records_save(
        data_type=data_type,
        records=[
            {"id": 1, "name": "Ann Lee", "tags": ["vip", "new"], "codes": [1, 2]},
            {"id": 2, "name": "Bob", "tags": ["new"], "codes": [2]},
            {"id": 10, "name": "Lee Chan", "tags": [], "address": {"city": "Lima"}},
            {"id": 100, "name": "Dan"},
        ],
    )
    return data_type


def keys(response):
    assert response.status_code == 200, response.content
    return [r["key"] for r in response.json()["results"]]


def test_unknown_lookups_and_bad_page_sizes_are_400(api, contacts):
    unknown = api.get("/api/v2/crm/Contact/?id__frob=3")
    assert unknown.status_code == 400
    assert "'frob' is not a lookup" in unknown.json()["id__frob"]
    for size in ("abc", "0", "-1", "5000", "1.5"):
        bad = api.get(f"/api/v2/crm/Contact/?page_size={size}")
        assert bad.status_code == 400 and "page_size" in bad.json(), size
    assert api.get("/api/v2/crm/Contact/?page_size=2").json()["results"][1]["key"] == "2"
    assert api.get("/api/v2/crm/Contact/?vip__isnull=maybe").status_code == 400
    # A nested field is still a filter, not an unknown lookup.
    assert keys(api.get("/api/v2/crm/Contact/?address__city=Lima")) == ["10"]


def test_contains_and_contained_by_work_on_every_database(api, contacts):
    assert keys(api.get("/api/v2/crm/Contact/?name__contains=Lee")) == ["1", "10"]
    assert keys(api.get("/api/v2/crm/Contact/?tags__contains=vip")) == ["1"]
    assert keys(api.get("/api/v2/crm/Contact/?tags__contains=new")) == ["1", "2"]
    assert keys(api.get("/api/v2/crm/Contact/?codes__contains=2")) == ["1", "2"]
    assert keys(api.get('/api/v2/crm/Contact/?tags__contains=["new","vip"]')) == ["1"]
    assert keys(api.get("/api/v2/crm/Contact/?tags__contained_by=new,old")) == ["2", "10"]
    assert keys(api.get("/api/v2/crm/Contact/?codes__contained_by=1,2")) == ["1", "2"]
    assert api.get("/api/v2/crm/Contact/?codes__contains=x").status_code == 400


def test_integer_keys_sort_as_numbers(api, contacts, admin_client):
    assert keys(api.get("/api/v2/crm/Contact/")) == ["1", "2", "10", "100"]
    assert keys(api.get("/api/v2/crm/Contact/?ordering=-key")) == ["100", "10", "2", "1"]
    page = admin_client.get(f"/admin/data/record/?data_type__id__exact={contacts.pk}").content
    text = page.decode()
    positions = [text.index(f">{key}</a>") for key in ("1", "2", "10", "100")]
    assert positions == sorted(positions)


def test_admin_search_keeps_the_data_type_filter(admin_client, contacts, namespace):
    other = data_type_save(namespace=namespace, name="City", schema={"type": "object"})
    records_save(data_type=other, records=[{"id": 1, "name": "Lima"}])
    page = admin_client.get(f"/admin/data/record/?data_type__id__exact={contacts.pk}&q=Lima")
    assert page.status_code == 200
    assert page.context["cl"].result_count == 1
    assert [r.data_type_id for r in page.context["cl"].result_list] == [contacts.pk]


def test_text_fields_take_only_strings(api, namespace):
    for field, value in (("primary_key", 7), ("name", 7), ("title", ["x"])):
        body = {"namespace": "crm", "name": "T", "schema": {"type": "object"}, field: value}
        response = api.post("/api/v2/setup/data_type/", body, format="json")
        assert response.status_code == 400, (field, response.content)
        assert "Must be a string" in response.json()[field][0]
    assert not DataType.objects.exists()


def nested(depth):
    return "[" * depth + "]" * depth


def test_deep_json_is_a_400_on_every_post_endpoint(api, contacts):
    paths = [
        "/api/v2/" + str(p.pattern).strip("^$")
        for p in setup_urlpatterns
        if p.name.endswith("-list")
        and p.name not in {"task-list", "notification-list", "request_log-list"}  # read only
    ]
    paths += ["/api/v2/crm/Contact/", "/api/v2/auth/token/"]
    assert len(paths) >= 14
    for depth in (150, 100_000):
        body = '{"name": ' + nested(depth) + "}"
        for path in paths:
            response = api.generic("POST", path, body, content_type="application/json")
            assert response.status_code == 400, (path, response.content[:300])
            assert "deeper than 100 levels" in response.json()["detail"], (path, response.content)
    assert Record.objects.count() == 4


def test_deep_schemas_are_refused(api, namespace):
    schema: dict = {"type": "object"}
    for _ in range(3000):
        schema = {"type": "object", "properties": {"a": schema}}
    with pytest.raises(ValidationError, match="nests deeper than"):
        data_type_save(namespace=namespace, name="Deep", schema=schema)
    shallow: dict = {"type": "object"}
    for _ in range(40):  # 80 levels of JSON: the API takes it, the schema check refuses it
        shallow = {"type": "object", "properties": {"a": shallow}}
    body = {"namespace": "crm", "name": "Deep", "schema": shallow}
    response = api.post("/api/v2/setup/data_type/", body, format="json")
    assert response.status_code == 400 and "nests deeper than 64" in str(response.json())
    assert not DataType.objects.exists()


LONE = '{"id": 5, "name": "\\ud800"}'


def test_lone_surrogates_are_refused_everywhere(api, contacts, admin_client):
    one = api.generic("POST", "/api/v2/crm/Contact/", LONE, content_type="application/json")
    assert one.status_code == 400 and "surrogate" in one.json()["detail"]
    bulk = api.generic("POST", "/api/v2/crm/Contact/", f"[{LONE}]", content_type="application/json")
    assert bulk.status_code == 400
    paired = '{"id": 6, "name": "\\ud83d\\ude00"}'  # an emoji as a surrogate pair is text
    assert (
        api.generic(
            "POST", "/api/v2/crm/Contact/", paired, content_type="application/json"
        ).status_code
        == 201
    )
    with pytest.raises(ValidationError, match="surrogate"):
        record_save(data_type=contacts, data=json.loads(LONE))
    result = records_save(data_type=contacts, records=[json.loads(LONE), {"id": 7}])
    assert result.created == 1 and "surrogate" in str(result.errors[0])
    form = admin_client.post(
        "/admin/data/record/add/", {"data_type": contacts.pk, "data": LONE.replace("5", "8")}
    )
    assert form.status_code == 200 and "surrogate" in form.content.decode()
    assert "\\ud800" in form.content.decode()  # shown as typed, to be mended
    assert not Record.objects.filter(key__in=["5", "8"]).exists()
    assert api.get("/api/v2/crm/Contact/?page_size=100").status_code == 200
    assert admin_client.get("/admin/data/record/").status_code == 200


def test_a_catastrophic_pattern_does_not_stall_a_post(api, namespace):
    schema = {"type": "object", "properties": {"p": {"type": "string", "pattern": "^(a+)+$"}}}
    data_type_save(namespace=namespace, name="Pat", schema=schema, primary_key="")
    started = time.monotonic()
    response = api.post("/api/v2/crm/Pat/", [{"p": "a" * 40 + "!"}], format="json")
    assert time.monotonic() - started < 2
    assert response.status_code == 400
    assert "does not match" in response.json()["errors"][0]["errors"][0]["message"]


def test_null_is_called_null(api, contacts):
    response = api.post("/api/v2/crm/Contact/", {"id": 9, "name": None}, format="json")
    assert response.status_code == 400
    assert response.json()["data"] == ['$.name: null is not of type "string"']


@pytest.mark.parametrize(
    "query",
    ["flow=abc", "flow=1.5", "flow=1e20", "flow=99999999999999999999", "status=nope", "kind=x"],
)
def test_task_filters_answer_400(api, query):
    response = api.get(f"/api/v2/setup/task/?{query}")
    assert response.status_code == 400, response.content


@pytest.mark.parametrize("query", ["task=abc", "task=1e20", "level=loud"])
def test_notification_filters_answer_400(api, query):
    assert api.get(f"/api/v2/setup/notification/?{query}").status_code == 400


def test_unknown_references_are_worded_alike(api, namespace):
    body = {"namespace": "nope", "name": "T", "schema": {"type": "object"}}
    response = api.post("/api/v2/setup/data_type/", body, format="json")
    assert response.json()["namespace"] == ["There is no namespace nope that you can see."]
    body = {
        "namespace": "crm",
        "name": "c",
        "base_url": "https://x.example",
        "authorization": {"namespace": "crm", "name": "nope"},
    }
    response = api.post("/api/v2/setup/connection/", body, format="json")
    assert response.json()["authorization"] == [
        "There is no authorization crm.nope that you can see."
    ]


def test_admin_messages_name_records_as_users_do(admin_client, contacts):
    response = admin_client.post(
        "/admin/data/record/add/", {"data_type": contacts.pk, "data": '{"id": 9001}'}, follow=True
    )
    text = response.content.decode()
    assert "crm.Contact 9001" in text and f"{contacts.pk}:9001" not in text


def test_big_integers_still_store_and_surrogates_beside_them_do_not(contacts):
    result = records_save(
        data_type=contacts,
        records=[{"id": 11, "name": "x", "n": 10**30}, {"id": 12, "name": "\ud800", "n": 10**30}],
    )
    assert result.created == 1 and "surrogate" in str(result.errors[0])
