"""Collections in a real browser: add a flow to a new collection (its needs come along),
open it, follow an element's link, export it, and install the download with a plan first."""

import pytest

from apps.collections.models import Collection
from apps.collections.services import collection_export
from apps.gateway.models import Webhook
from apps.workflows.models import Flow
from tests.collections.conftest import build_crm
from tests.workflows.systems import SystemA, SystemB

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def systems():
    a, b = SystemA([]).start(), SystemB().start()
    yield a, b
    a.stop()
    b.stop()


def test_add_export_and_install(admin_page, live_server, namespace, systems, tmp_path):
    page, url = admin_page, live_server.url
    build_crm(namespace, *(system.url for system in systems))
    flow = Flow.objects.get(name="import_contacts")

    page.goto(f"{url}/admin/workflows/flow/")
    page.check(f"input[name=_selected_action][value='{flow.pk}']")
    page.select_option("select[name=action]", "add_to_collection")
    page.click("button[name=index]")
    page.fill("#id_new_name", "imports")
    page.click("input[type=submit][value='Add to collection']")
    message = page.inner_text(".messagelist .success")
    assert "Added 1 element(s) to collection imports" in message
    assert "webhook crm.get_contacts" in message and "connection crm.system_a" in message

    page.goto(f"{url}/admin/collections/collection/")
    page.click("#result_list a:text-is('imports')")
    rows = page.inner_text("table.collection-elements")
    assert "pulled in, needed by flow crm.import_contacts" in rows
    page.click("table.collection-elements a:text-is('crm.get_contacts')")
    webhook = Webhook.objects.get(name="get_contacts")
    assert page.url.endswith(f"/admin/gateway/webhook/{webhook.pk}/change/")
    page.go_back()

    with page.expect_download() as download:
        page.click("a:text-is('Export')")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "imports-1.0.0.json"
    collection = Collection.objects.get(name="imports")
    assert saved.read_bytes() == collection_export(collection=collection)

    collection.delete()
    flow.delete()  # installation B lacks the flow and the collection
    page.goto(f"{url}/admin/collections/collection/")
    page.click("a:text-is('Install a collection')")
    page.set_input_files("#id_document", str(saved))
    page.click("input[name=_plan]")
    assert page.inner_text("#plan-head") == "collection imports 1.0.0: new"
    assert page.inner_text("#plan tr.plan-create").startswith("create\tflow\tcrm.import_contacts")
    assert "1 create, 5 unchanged" in page.inner_text("#plan-counts")
    assert not Flow.objects.filter(name="import_contacts").exists()  # nothing yet
    page.click("input[name=_install]")
    assert "Installed imports 1.0.0: 1 create, 5 unchanged." in page.inner_text(".messagelist")
    assert Flow.objects.filter(name="import_contacts").exists()
    assert Collection.objects.get(name="imports").members.count() == 6
