"""Issue 9.1: viewing is not using. Carol may view bob's namespace bns and change her
own, cns; every way she found to use bob's credentials and elements is refused, on
save (API and admin) and at run time (rows written around the services), and her
listener hears nothing.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from apps.data.models import Namespace, Record
from apps.data.services import data_type_save
from apps.gateway.models import Connection, ConnectionRole, Webhook
from apps.gateway.services import connection_save, webhook_save
from apps.security import services
from apps.security.models import Authorization
from apps.workflows.engine.runner import task_run
from apps.workflows.models import Flow, Translator
from apps.workflows.services import element_save, flow_enqueue

from .attackers import Listener
from .oauth_server import OAuthServer

CONTACT = {"type": "object", "properties": {"id": {"type": "integer"}}}
BOB_KINDS = ["basic", "bearer", "api_key_header", "api_key_query", "oauth2"]


@pytest.fixture
def listener():
    with Listener(echo=True) as carols:
        yield carols


@pytest.fixture
def bobs_api():
    with OAuthServer() as api:
        yield api


@pytest.fixture
def people(make_user, grant):
    ans, bns, cns = (Namespace.objects.create(name=n) for n in ("ans", "bns", "cns"))
    alice, bob = make_user("alice", is_staff=True), make_user("bob", is_staff=True)
    carol = make_user("carol", is_staff=True)
    grant(alice, ans, change=True)
    grant(bob, bns, change=True)
    grant(carol, cns, change=True)
    grant(carol, bns)  # view only
    return {"alice": alice, "bob": bob, "carol": carol, "ans": ans, "bns": bns, "cns": cns}


@pytest.fixture
def bob(people, bobs_api):
    """bob's elements in bns, saved by bob: what carol is after."""
    bns, user, c = people["bns"], people["bob"], bobs_api.credentials

    def auth(name, kind, **fields):
        return services.authorization_save(
            namespace=bns, name=name, kind=kind, actor=user, **fields
        )

    provider = services.authorization_provider_save(
        namespace=bns, name="provider", token_url=bobs_api.url("/oauth/token"), actor=user
    )
    client = services.authorization_client_save(
        namespace=bns, name="client", provider=provider, client_id=c.client_id,
        client_secret=c.client_secret, actor=user,
    )  # fmt: skip
    auths = {
        "basic": auth("basic", "basic", username=c.username, password=c.password),
        "bearer": auth("bearer", "bearer", token=c.bearer_token),
        "api_key_header": auth("key", "api_key", key_name=c.key_name, key_value=c.key_value),
        "api_key_query": auth(
            "qkey", "api_key", key_name="api_key", key_value=c.key_value, key_in="query"
        ),
        "oauth2": auth("oauth", "oauth2", client=client, grant_type="client_credentials"),
    }
    connection = connection_save(
        namespace=bns, name="api", base_url=bobs_api.url("/protected"),
        authorization=auths["basic"], actor=user,
    )  # fmt: skip
    contact = data_type_save(namespace=bns, name="Contact", schema=CONTACT)
    return {
        **auths,
        "client": client,
        "connection": connection,
        "contact": contact,
        "post": webhook_save(
            namespace=bns,
            name="post_contact",
            path="basic",
            method="POST",
            connection=connection,
            actor=user,
        ),
        "importer": element_save(
            model=Translator,
            namespace=bns,
            name="import_contacts",
            type="import",
            style="mapping",
            target_data_type=contact,
            actor=user,
        ),
    }


def secrets_of(api) -> list[str]:
    c = api.credentials
    return [c.password, c.bearer_token, c.key_value, c.client_secret]


def assert_nothing_leaked(listener, bobs_api, issued_before: int = 0) -> None:
    assert listener.received == []
    assert len(bobs_api.access_tokens) == issued_before  # no token handed out for carol


def ref(element) -> dict:
    return {"namespace": element.namespace.name, "name": element.name}


# --- on save: the API ----------------------------------------------------------------


@pytest.mark.parametrize("kind", BOB_KINDS)
def test_carol_cannot_sign_her_connection_with_bobs_authorization(
    kind, people, bob, api_as, listener, bobs_api
):
    response = api_as(people["carol"]).post(
        "/api/v2/setup/connection/",
        {"namespace": "cns", "name": "steal", "base_url": listener.url,
         "authorization": ref(bob[kind])},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert "you may not change namespace 'bns'" in response.json()["authorization"][0]
    assert not Connection.objects.filter(name="steal").exists()
    assert_nothing_leaked(listener, bobs_api)


def test_carol_cannot_override_a_flows_authorization_with_bobs(people, bob, api_as):
    cns = people["cns"]
    mine = connection_save(namespace=cns, name="mine", base_url="https://carol.example")
    webhook_save(namespace=cns, name="hook", path="x", connection=mine)
    loot = data_type_save(namespace=cns, name="Loot", schema=CONTACT)
    element_save(model=Translator, namespace=cns, name="parse", type="import", style="mapping",
                 target_data_type=loot)  # fmt: skip
    response = api_as(people["carol"]).post(
        "/api/v2/setup/flow/",
        {"namespace": "cns", "name": "f", "translator": {"namespace": "cns", "name": "parse"},
         "webhook": {"namespace": "cns", "name": "hook"}, "authorization": ref(bob["bearer"])},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert "you may not change namespace 'bns'" in response.json()["authorization"][0]
    assert not Flow.objects.filter(name="f").exists()


def test_carol_cannot_use_bobs_oauth_client(people, bob, api_as, bobs_api, listener):
    response = api_as(people["carol"]).post(
        "/api/v2/setup/authorization/",
        {"namespace": "cns", "name": "mine", "kind": "oauth2", "client": ref(bob["client"]),
         "grant_type": "client_credentials"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert "client" in response.json()
    assert bobs_api.token_requests == []


def test_carol_cannot_write_into_bns_through_translators(people, bob, api_as):
    carol = api_as(people["carol"])
    data_type_save(namespace=people["cns"], name="Mine", schema=CONTACT)
    converter = carol.post(
        "/api/v2/setup/translator/",
        {"namespace": "cns", "name": "to_bns", "type": "conversion", "style": "mapping",
         "source_data_type": {"namespace": "cns", "name": "Mine"},
         "target_data_type": ref(bob["contact"])},
        format="json",
    )  # fmt: skip
    assert converter.status_code == 400 and "target_data_type" in converter.json()
    observer = carol.post(
        "/api/v2/setup/observer/",
        {"namespace": "cns", "name": "watch", "data_type": ref(bob["contact"])},
        format="json",
    )
    assert observer.status_code == 400 and "data_type" in observer.json()
    flow = carol.post(
        "/api/v2/setup/flow/",
        {"namespace": "cns", "name": "f", "translator": ref(bob["importer"]),
         "webhook": ref(bob["post"])},
        format="json",
    )  # fmt: skip
    assert flow.status_code == 400
    assert {"translator", "webhook"} <= set(flow.json())


def test_a_connection_role_cannot_hold_bobs_connection(people, bob, api_as):
    response = api_as(people["carol"]).post(
        "/api/v2/setup/connection_role/",
        {"namespace": "cns", "name": "role", "connections": [ref(bob["connection"])]},
        format="json",
    )
    assert response.status_code == 400 and "connections" in response.json()


def test_bob_may_refer_to_his_own_elements_and_a_sharer_to_both(people, bob, api_as, grant):
    shared = Namespace.objects.create(name="shared")
    grant(people["bob"], shared, change=True)
    response = api_as(people["bob"]).post(
        "/api/v2/setup/connection/",
        {"namespace": "shared", "name": "c", "base_url": "https://b.example",
         "authorization": ref(bob["basic"])},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()


def test_the_namespace_rule_refuses_what_another_editor_could_abuse(people, bob, api_as, grant):
    """carol may change bns too now, but dave, who may change cns, may not: a reference
    from cns to bob's credentials would let dave send them anywhere."""
    grant(people["carol"], people["bns"], change=True)
    dave = people["alice"]
    grant(dave, people["cns"], change=True)
    response = api_as(people["carol"]).post(
        "/api/v2/setup/connection/",
        {"namespace": "cns", "name": "c", "base_url": "https://c.example",
         "authorization": ref(bob["basic"])},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert "1 user who may change namespace 'cns' may not change 'bns'" in str(response.json())


# --- on save: the admin ----------------------------------------------------------------


def _admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_offers_and_accepts_only_usable_references(people, bob, listener):
    carol = _admin(people["carol"])
    page = carol.get("/admin/gateway/connection/add/")
    choices = page.context["adminform"].form.fields["authorization"].queryset
    assert not choices.filter(namespace__name="bns").exists()
    response = carol.post(
        "/admin/gateway/connection/add/",
        {"namespace": people["cns"].pk, "name": "steal", "base_url": listener.url,
         "authorization": bob["basic"].pk, "parameters": "{}", "headers": "{}",
         "template_parameters": "{}", "connect_timeout": 5, "read_timeout": 30,
         "max_attempts": 1},
    )  # fmt: skip
    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.errors["authorization"]
    assert not Connection.objects.filter(name="steal").exists()


def test_the_admin_form_refuses_a_reference_the_namespace_rule_forbids(people, bob, grant):
    grant(people["carol"], people["bns"], change=True)
    grant(people["alice"], people["cns"], change=True)
    response = _admin(people["carol"]).post(
        "/admin/workflows/translator/add/",
        {"namespace": people["cns"].pk, "name": "to_bns", "type": "conversion",
         "style": "mapping", "source_data_type": bob["contact"].pk,
         "target_data_type": bob["contact"].pk, "mapping": "{}", "mime_type": "application/json"},
    )  # fmt: skip
    errors = response.context["adminform"].form.errors
    assert "may not change 'bns'" in " ".join(errors["target_data_type"])
    assert not Translator.objects.filter(name="to_bns").exists()


# --- at run time: rows written around the services ----------------------------------------


def _around(model, **fields):
    """A row saved without the services' checks (a fixture, an old row, a shell)."""
    element = model(**fields)
    element.save()
    return element


def _task_error(flow) -> tuple[str, str]:
    task = flow_enqueue(flow=flow)
    status = task_run(task.pk)
    return status, task.executions.get().error


def _carols_import(people, connection, **flow_fields):
    cns = people["cns"]
    mine = data_type_save(namespace=cns, name="Loot", schema={"type": "object"})
    hook = _around(Webhook, namespace=cns, name="hook", path="basic", connection=connection)
    parse = _around(
        Translator, namespace=cns, name="parse", type="import", style="mapping",
        target_data_type=mine,
    )  # fmt: skip
    fields = {"translator": parse, "webhook": hook, **flow_fields}
    return _around(Flow, namespace=cns, name="steal", max_attempts=1, **fields)


@pytest.mark.parametrize("kind", BOB_KINDS)
def test_at_run_time_bobs_credentials_never_reach_carol(kind, people, bob, listener, bobs_api):
    steal = _around(
        Connection, namespace=people["cns"], name="steal", base_url=listener.url,
        authorization=bob[kind], max_attempts=1,
    )  # fmt: skip
    status, error = _task_error(_carols_import(people, steal))
    assert status == "failed"
    assert "cns may not use authorization bns." in error
    assert_nothing_leaked(listener, bobs_api)
    assert not any(secret in error for secret in secrets_of(bobs_api))


def test_at_run_time_an_authorization_override_is_checked(people, bob, listener, bobs_api):
    mine = _around(Connection, namespace=people["cns"], name="mine", base_url=listener.url)
    flow = _carols_import(people, mine, authorization=bob["bearer"])
    status, error = _task_error(flow)
    assert status == "failed" and "authorization bns.bearer" in error
    assert_nothing_leaked(listener, bobs_api)


def test_at_run_time_bobs_client_gives_carol_no_token(people, bob, listener, bobs_api):
    hers = _around(
        Authorization, namespace=people["cns"], name="mine", kind="oauth2",
        client=bob["client"], grant_type="client_credentials",
    )  # fmt: skip
    steal = _around(
        Connection, namespace=people["cns"], name="steal", base_url=listener.url,
        authorization=hers,
    )  # fmt: skip
    status, error = _task_error(_carols_import(people, steal))
    assert status == "failed" and "client bns.client" in error
    with pytest.raises(services.AuthorizationError) as refused:  # the admin's Authorize
        services.authorization_refresh(hers)
    assert refused.value.code == "cross_namespace"
    assert bobs_api.token_requests == []
    assert_nothing_leaked(listener, bobs_api)


def test_at_run_time_nothing_is_written_into_bns(people, bob):
    cns = people["cns"]
    mine = data_type_save(namespace=cns, name="Mine", schema=CONTACT)
    Record.objects.create(data_type=mine, key="1", data={"id": 1})
    to_bns = _around(
        Translator, namespace=cns, name="to_bns", type="conversion", style="mapping",
        source_data_type=mine, target_data_type=bob["contact"],
    )  # fmt: skip
    for translator in (to_bns, bob["importer"]):
        flow = _around(
            Flow, namespace=cns, name=f"via_{translator.name}", translator=translator,
            data_type=mine, scope="all", max_attempts=1,
        )  # fmt: skip
        status, error = _task_error(flow)
        assert status == "failed"
        assert "bns.Contact" in error or "bns.import_contacts" in error
    assert not Record.objects.filter(data_type=bob["contact"]).exists()


def test_at_run_time_bobs_webhook_is_not_called_from_carols_flow(people, bob, bobs_api):
    cns = people["cns"]
    mine = data_type_save(namespace=cns, name="Mine", schema=CONTACT)
    Record.objects.create(data_type=mine, key="1", data={"id": 1})
    render = _around(
        Translator, namespace=cns, name="render", type="export", style="template",
        source_data_type=mine, template='{"id": {{ record.id }}}',
    )  # fmt: skip
    role = ConnectionRole.objects.create(namespace=cns, name="role")
    role.connections.set([bob["connection"]])
    for fields in ({"webhook": bob["post"]}, {"webhook": None, "connection_role": role}):
        if fields["webhook"] is None:  # her own webhook, through bob's connection
            fields["webhook"] = _around(Webhook, namespace=cns, name="w", path="basic",
                                        method="POST")  # fmt: skip
        flow = _around(
            Flow, namespace=cns, name=f"export_{fields['webhook'].name}", translator=render,
            data_type=mine, scope="all", max_attempts=1, **fields,
        )  # fmt: skip
        status, error = _task_error(flow)
        assert status == "failed" and "cns may not use" in error
    assert bobs_api.token_requests == [] and bobs_api.access_tokens == set()


def test_a_permission_taken_away_stops_the_run(people, bob, listener, bobs_api, grant):
    """Saved while carol could change bns; then bob took that away."""
    from guardian.shortcuts import remove_perm

    grant(people["carol"], people["bns"], change=True)
    steal = connection_save(
        namespace=people["cns"], name="steal", base_url=listener.url,
        authorization=bob["basic"], actor=people["carol"], max_attempts=1,
    )  # fmt: skip
    remove_perm("data.change_namespace", people["carol"], people["bns"])
    status, error = _task_error(_carols_import(people, steal))
    assert status == "failed" and "may not change 'bns'" in error
    assert_nothing_leaked(listener, bobs_api)


# --- the webhook's Try page ---------------------------------------------------------------


def test_try_lists_only_connections_carol_may_change(people, bob, bobs_api):
    carol = _admin(people["carol"])
    mine = connection_save(namespace=people["cns"], name="mine", base_url="https://c.example")
    url = f"/admin/gateway/webhook/{bob['post'].pk}/try/"
    page = carol.get(url)
    assert page.status_code == 200  # she may view bob's webhook
    listed = list(page.context["form"].fields["connection"].queryset)
    assert listed == [mine]
    response = carol.post(url, {"connection": "", "template_values": "{}", "parameters": "{}"})
    assert "You may not call through connection bns.api" in response.content.decode()
    assert response.context["result"] is None
    assert bobs_api.token_requests == []
    forced = carol.post(
        url, {"connection": bob["connection"].pk, "template_values": "{}", "parameters": "{}"}
    )
    assert forced.context["form"].errors["connection"]
    assert forced.context["result"] is None


def test_model_validation_of_a_service_call_without_actor_applies_the_namespace_rule(
    people, bob, grant
):
    grant(people["alice"], people["cns"], change=True)
    with pytest.raises(ValidationError) as refused:
        connection_save(
            namespace=people["cns"], name="c", base_url="https://c.example",
            authorization=bob["basic"],
        )  # fmt: skip
    assert "may not change 'bns'" in str(refused.value.message_dict["authorization"])
