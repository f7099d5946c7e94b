"""The collections admin without a browser: detail links, export, install with a plan."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.collections.models import Collection
from apps.collections.services import collection_export
from apps.data.models import Namespace
from apps.workflows.models import Flow
from tests.collections.conftest import SECRETS, bundle
from tests.collections.test_install import row_counts

BASE = "/admin/collections/collection/"


def test_detail_links_every_element_and_export_downloads(
    client, admin_user, integration, namespace
):
    collection = bundle(namespace)
    client.force_login(admin_user)
    page = client.get(f"{BASE}{collection.pk}/change/").content.decode()
    flow = Flow.objects.get(name="import_contacts")
    assert f'href="/admin/workflows/flow/{flow.pk}/change/">crm.import_contacts</a>' in page
    assert "pulled in, needed by flow crm.import_contacts" in page
    assert page.count("<tr><td>") == 23
    download = client.get(f"{BASE}{collection.pk}/export/")
    assert download.content == collection_export(collection=collection)
    assert download["Content-Disposition"] == 'attachment; filename="crm_sync-1.0.0.json"'


def test_install_shows_the_plan_then_installs(client, admin_user, integration, namespace):
    data = collection_export(collection=bundle(namespace))
    document = json.loads(data)
    document["version"] = "1.1.0"
    document["flows"][0]["lot_size"] = 7
    client.force_login(admin_user)
    before = row_counts()
    upload = SimpleUploadedFile("crm.json", json.dumps(document).encode())
    page = client.post(f"{BASE}install/", {"document": upload, "activate": "on"})
    text = page.content.decode()
    assert "collection crm_sync: 1.0.0 -&gt; 1.1.0 (version)" in text
    assert '<tr class="plan-update"><td>update</td><td>flow</td>' in text
    assert (
        'name="secret-crm.system_b_token.token"' in text
        and SECRETS["crm.system_b_token.token"] not in text
    )
    assert row_counts() == before  # the plan changed nothing
    form = page.context["form"]
    posted = {
        **{k: v for k, v in form.initial.items()},
        "secret-crm.system_b_token.token": "new-tok",
    }
    done = client.post(f"{BASE}install/", posted)
    assert done.status_code == 302, done.content.decode()[:3000]
    assert Collection.objects.get().version == "1.1.0"
    assert Flow.objects.get(name=document["flows"][0]["name"]).lot_size == 7
    from apps.security.models import Authorization

    assert Authorization.objects.get(name="system_b_token").token == "new-tok"


def test_a_damaged_upload_lists_its_problems(client, admin_user, db):
    client.force_login(admin_user)
    bad = {"format": "collection/1", "name": "x", "version": "1.0.0", "flows": [{"name": "f"}]}
    upload = SimpleUploadedFile("x.json", json.dumps(bad).encode())
    text = client.post(f"{BASE}install/", {"document": upload}).content.decode()
    assert "<code>$.flows[0]</code>: &#x27;namespace&#x27; is a required property" in text
    assert not Namespace.objects.exists()


def test_an_installation_that_changed_since_the_plan_shows_the_new_plan(
    client, admin_user, integration, namespace
):
    data = collection_export(collection=bundle(namespace))
    client.force_login(admin_user)
    upload = SimpleUploadedFile("crm.json", data)
    page = client.post(f"{BASE}install/", {"document": upload})
    shown = page.context["form"].initial
    flow = Flow.objects.get(name="convert_contacts")
    flow.lot_size = 99  # meanwhile, someone edits an element the plan said was unchanged
    flow.save()
    again = client.post(f"{BASE}install/", {**shown})
    assert again.status_code == 200
    text = again.content.decode()
    assert 'id="plan-changed"' in text
    assert "<td>crm.convert_contacts</td><td>lot_size</td>" in text
    assert Flow.objects.get(pk=flow.pk).lot_size == 99  # nothing installed
    confirmed = client.post(f"{BASE}install/", {**again.context["form"].initial})
    assert confirmed.status_code == 302
    assert Flow.objects.get(pk=flow.pk).lot_size == 10


def test_add_data_types_with_their_records_from_their_list(client, admin_user, integration):
    from apps.data.models import DataType

    country = DataType.objects.get(name="Country")
    client.force_login(admin_user)
    url = "/admin/data/datatype/"
    chosen = {"action": "add_to_collection", "_selected_action": [country.pk]}
    page = client.post(url, chosen)
    assert "Data types: their records travel with the collection too." in page.content.decode()
    done = client.post(url, {**chosen, "apply": "1", "new_name": "lookups", "with_records": "on"})
    assert done.status_code == 302
    collection = Collection.objects.get(name="lookups")
    assert list(collection.members.values_list("object_id", "chosen", "with_records")) == [
        (country.pk, True, True)
    ]
    document = json.loads(collection_export(collection=collection))
    assert document["records"] == {
        "crm.Country": [{"code": "AR", "name": "Argentina"}, {"code": "FR", "name": "France"}]
    }
