"""The same import through every pagination type and every authorization kind."""

from __future__ import annotations

import pytest

from apps.connector_factory.generator import connector_generate
from apps.gateway.models import RequestLog

from .specs import contact_spec
from .test_import_export import contacts, import_all

PAGINATIONS = {
    "none": ("contacts_all", {"type": "none"}, "data"),
    "page_number": ("contacts", {"type": "page_number", "size_param": "per_page", "size": 100,
                                 "has_more_path": "info.more_records"}, "data"),
    "page_number_short_page": ("contacts", {"type": "page_number", "size_param": "per_page",
                                            "size": 70}, "data"),
    "offset": ("offset/contacts", {"type": "offset", "limit": 100, "total_path": "total"}, "data"),
    "cursor": ("cursor/contacts", {"type": "cursor", "next_cursor_path": "next_cursor"}, "data"),
    "cursor_field": ("cursor/contacts", {"type": "cursor", "cursor_field": "id"}, "data"),
    "link_header": ("link/contacts", {"type": "link_header"}, ""),
    "next_url": ("next/contacts", {"type": "next_url", "next_url_path": "next"}, "data"),
}  # fmt: skip


@pytest.mark.parametrize("kind", PAGINATIONS)
def test_every_pagination_type_imports_every_record_once(db, crm, admin_user, kind):
    path, pagination, records_path = PAGINATIONS[kind]
    if kind == "none":
        crm.page_size = 1000
        path, pagination = "contacts", {"type": "none"}
    spec = contact_spec(crm.url)
    imports = spec["resources"][0]["import"]
    imports.update(get_many={"path": path}, pagination=pagination, records_path=records_path)
    connector_generate(spec=spec, actor=admin_user)
    task = import_all()
    assert task.result["imported"] == 1000
    stored = contacts()
    assert sorted(int(key) for key in stored) == list(range(1, 1001))
    assert all(stored[str(i)]["raw_data"] == crm.contacts[i] for i in (1, 500, 1000))


AUTHS = {
    "none": (None, {"type": "none"}),
    "basic": (("basic", "ann", "pw-SECRET-b"),
              {"type": "basic", "username": "ann", "password": "pw-SECRET-b"}),
    "bearer": (("bearer", "tok-SECRET-c"), {"type": "bearer", "token": "tok-SECRET-c"}),
    "api_key_header": (("api_key", "X-Api-Key", "key-SECRET-d", "header"),
                       {"type": "api_key", "key_name": "X-Api-Key", "key_value": "key-SECRET-d"}),
    "api_key_query": (("api_key", "api_key", "key-SECRET-e", "query"),
                      {"type": "api_key", "key_name": "api_key", "key_value": "key-SECRET-e",
                       "key_in": "query"}),
}  # fmt: skip


@pytest.mark.parametrize("kind", [*AUTHS, "oauth2"])
def test_every_authorization_kind_imports_and_keeps_its_secret(db, crm, admin_user, kind, caplog):
    caplog.set_level("DEBUG")
    if kind == "oauth2":
        crm.auth = ("oauth2", "app-1", "client-SECRET-f")
        auth = {"type": "oauth2", "token_endpoint": f"{crm.url}/oauth/token",
                "client_id": "app-1", "client_secret": "client-SECRET-f"}  # fmt: skip
    else:
        crm.auth, auth = AUTHS[kind]
    result = connector_generate(spec=contact_spec(crm.url, **auth), actor=admin_user)
    import_all()
    assert len(contacts()) == 1000
    if kind == "oauth2":
        assert crm.issued == ["crm-token-1"]  # one token for the whole import
    secret = {k: v for k, v in auth.items() if "SECRET" in str(v)}
    logs = " ".join(
        f"{log.url} {log.request_headers} {log.response_body}" for log in RequestLog.objects.all()
    )
    assert RequestLog.objects.count() >= 10 and "/contacts" in logs
    for value in secret.values():
        assert value not in str(result.as_dict()) + str(result.connector.spec)
        assert value not in logs
    crm.auth = ("bearer", "another")  # refused from now on: the import fails, saying so
    from apps.workflows.models import Algorithm, Task
    from apps.workflows.services import algorithm_run

    algorithm = Algorithm.objects.get(namespace__name="crm_demo", name="do_import_contacts")
    task = algorithm_run(algorithm=algorithm, arguments={}, sync=True)
    assert task.status in {Task.Status.FAILED, Task.Status.RETRYING}
    assert "HTTP 401" in task.executions.last().error
    for value in secret.values():  # not in the failure, its notification or any log line
        assert value not in task.executions.last().error + caplog.text
        assert value not in str(list(task.notifications.values_list("message", "attachment")))
