"""Issue 9.6: the admin's filter sidebars name only what the user may see.

alice may see namespace ans; bob's namespace bns, its data type and its webhook
have names that must not appear on any list page alice opens.
"""

from __future__ import annotations

import pytest
from django.test import Client

from apps.data.models import Namespace, Record
from apps.data.services import data_type_save
from apps.gateway.models import RequestLog
from apps.gateway.services import connection_save, webhook_save
from apps.workflows.models import Notification, Task

CANARIES = ["bobs_secret_space", "BobsHiddenType", "bobs_hidden_hook"]
PAGES = [
    "/admin/data/namespace/",
    "/admin/data/datatype/",
    "/admin/data/record/",
    "/admin/gateway/connection/",
    "/admin/gateway/webhook/",
    "/admin/gateway/requestlog/",
    "/admin/security/authorization/",
    "/admin/workflows/flow/",
    "/admin/workflows/task/",
    "/admin/workflows/notification/",
    "/admin/workflows/translator/",
]


@pytest.fixture
def tenants(make_user, grant):
    ans, bns = (
        Namespace.objects.create(name="ans"),
        Namespace.objects.create(name="bobs_secret_space"),
    )
    alice = make_user("alice", is_staff=True)
    grant(alice, ans)
    for namespace, type_name, hook_name in [
        (ans, "Contact", "get_contacts"),
        (bns, "BobsHiddenType", "bobs_hidden_hook"),
    ]:
        data_type = data_type_save(namespace=namespace, name=type_name, schema={"type": "object"})
        Record.objects.create(data_type=data_type, key="1", data={"id": 1})
        connection = connection_save(namespace=namespace, name="api", base_url="https://x.example")
        webhook = webhook_save(namespace=namespace, name=hook_name, path="x", connection=connection)
        RequestLog.objects.create(namespace=namespace, webhook=webhook, connection=connection,
                                  method="GET", url="https://x.example/x", status=200)  # fmt: skip
        task = Task.objects.create(namespace=namespace, kind="flow", description="run")
        Notification.objects.create(namespace=namespace, level="info", message="m", task=task)
    return alice


@pytest.mark.parametrize("url", PAGES)
def test_filter_sidebars_list_only_visible_namespaces_and_elements(url, tenants, admin_user):
    alice = Client()
    alice.force_login(tenants)
    page = alice.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    for canary in CANARIES:
        assert canary not in text, (url, canary)
    superuser = Client()  # who may see everything is shown bob's names on the same page
    superuser.force_login(admin_user)
    shown = superuser.get(url).content.decode()
    assert any(canary in shown for canary in CANARIES), url


def test_the_sidebars_still_filter(tenants):
    alice = Client()
    alice.force_login(tenants)
    text = alice.get("/admin/data/record/").content.decode()
    assert "ans.Contact" in text  # her own data type is offered as a filter
    text = alice.get("/admin/gateway/requestlog/").content.decode()
    assert "?webhook__id__exact=" in text and "ans.get_contacts" in text
