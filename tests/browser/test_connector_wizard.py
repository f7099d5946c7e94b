"""The Connector Factory wizard in a real browser (with JavaScript), down to a real import.

A user opens the wizard from the admin index, fills every step, adds two
resources, saves, opens Details and clicks Import now; a real Celery worker
runs the generated import against a local HTTP API and the records arrive.
"""

from __future__ import annotations

import pytest

from apps.connector_factory.models import Connector
from apps.data.models import Record
from tests.gateway.remote_api import RemoteAPI
from tests.workers import start_worker, stop_worker, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Shop-Passw0rd-55"


@pytest.fixture
def remote():
    api = RemoteAPI(records=23, page_size=5).start()
    api.require = ("basic", "shopper", PASSWORD)
    yield api
    api.stop()


@pytest.fixture
def worker():
    """A real Celery worker for this test only: later tests find no worker left running."""
    process = start_worker()
    yield process
    stop_worker(process)


def records_of(data_type: str) -> list[Record]:
    return list(
        Record.objects.filter(data_type__namespace__name="remote_shop", data_type__name=data_type)
    )


def test_a_user_makes_a_connector_in_the_wizard_and_imports_with_it(
    admin_page, live_server, remote, worker
):
    page = admin_page
    page.goto(f"{live_server.url}/admin/")
    page.click("#connector-factory-box caption a")
    page.click("#add-connector")

    # Name, authorization type, its fields.
    page.fill("#id_name-name", "remote_shop")
    page.fill("#id_name-title", "Remote shop")
    page.click("#next")
    page.check("input[name='auth_type-type'][value='basic']")
    page.click("#next")
    assert page.locator("#id_auth-password").get_attribute("type") == "password"
    assert page.locator("#id_auth-token").count() == 0
    page.fill("#id_auth-username", "shopper")
    page.fill("#id_auth-password", PASSWORD)
    page.click("#next")

    # Connection: a third parameter row comes without a round trip.
    page.fill("#id_connection-base_url", remote.url)
    page.fill("#id_connection-parameters-0-name", "lang")
    page.fill("#id_connection-parameters-0-value", "en")
    page.fill("#id_connection-parameters-1-name", "source")
    page.fill("#id_connection-parameters-1-value", "wizard")
    url = page.url
    page.click("fieldset[data-formset='connection-parameters'] .formset-add")
    assert (
        page.url == url
        and page.locator("#id_connection-parameters-TOTAL_FORMS").input_value() == "3"
    )
    page.fill("#id_connection-parameters-2-name", "region")
    page.fill("#id_connection-parameters-2-value", "eu")
    page.fill("#id_connection-headers-0-name", "X-Client")
    page.fill("#id_connection-headers-0-value", "platform")
    page.click("#next")

    # Resource 1: items, page_number; only its options show.
    page.fill("#id_resources-0-name", "item")
    page.fill("#id_resources-0-get_one_path", "items/{{remote_id}}")
    page.fill("#id_resources-0-get_many_path", "pages")
    page.fill("#id_resources-0-records_path", "data")
    assert page.locator("#id_resources-0-create_path").is_hidden()  # export not chosen
    assert page.locator("#id_resources-0-page_number__size").is_hidden()
    page.select_option("#id_resources-0-pagination_type", "page_number")
    assert page.locator("#id_resources-0-page_number__size").is_visible()
    assert page.locator("#id_resources-0-offset__limit").is_hidden()
    page.fill("#id_resources-0-page_number__size_param", "per_page")
    page.fill("#id_resources-0-page_number__size", "5")
    page.fill("#id_resources-0-page_number__has_more_path", "info.more")

    # Resource 2, added in the page: entries, offset pagination, import and export.
    page.click(".resources > .formset-add")
    page.wait_for_selector("#id_resources-1-name")
    page.fill("#id_resources-1-name", "entry")
    page.fill("#id_resources-1-plural", "entries")
    page.fill("#id_resources-1-get_one_path", "items/{{remote_id}}")
    page.fill("#id_resources-1-get_many_path", "offset")
    page.fill("#id_resources-1-records_path", "items")
    page.select_option("#id_resources-1-pagination_type", "offset")
    assert page.locator("#id_resources-1-page_number__size").is_hidden()
    page.fill("#id_resources-1-offset__limit", "4")
    page.fill("#id_resources-1-offset__total_path", "total")
    page.check("#id_resources-1-processes_1")  # export
    page.fill("#id_resources-1-create_path", "echo")
    page.fill("#id_resources-1-update_path", "echo/{{remote_id}}")
    assert page.locator("#id_resources-1-wrap_key").is_hidden()
    page.select_option("#id_resources-1-body_shape", "wrapped")
    page.fill("#id_resources-1-wrap_key", "data")
    page.click("#next")

    # Review: the plan of elements and the spec, without the password.
    page.wait_for_selector("#plan")
    plan = page.inner_text("#plan")
    for name in ("default_authorization", "Item", "get_items", "do_import_items", "Entry",
                 "create_entry", "handle_entry", "do_check_error_response"):  # fmt: skip
        assert name in plan
    assert PASSWORD not in page.content()
    page.click("#next")

    # Completion, then Details.
    page.wait_for_selector(".completion")
    assert "get_items" in page.inner_text(".completion")
    page.click("#details-link")
    page.wait_for_selector("#elements")
    assert page.locator("#elements a", has_text="do_import_items").count() == 1
    assert page.locator("tr.resource[data-name='item'] .try-link").count() == 1
    connector = Connector.objects.get(namespace__name="remote_shop")
    assert connector.spec["connection"]["parameters"] == {
        "lang": "en", "source": "wizard", "region": "eu"
    }  # fmt: skip

    page.click("tr.resource[data-name='item'] .import-now")
    page.wait_for_selector(".messagelist .success")
    assert "Import of item started" in page.inner_text(".messagelist")
    page.click("tr.resource[data-name='entry'] .import-now")
    page.wait_for_selector(".messagelist .success")

    items = wait_for(
        lambda: len(records_of("Item")) == 23 and records_of("Item"),
        timeout=60, what="the 23 items", process=worker,
    )  # fmt: skip
    assert sorted(int(r.data["remote_id"]) for r in items) == list(range(1, 24))
    assert all(r.data["raw_data"]["name"] == f"item {r.data['raw_data']['id']}" for r in items)
    wait_for(lambda: len(records_of("Entry")) == 23, timeout=60, what="the 23 entries",
             process=worker)  # fmt: skip
    # Every remote request carried the connection's parameters and the basic credentials.
    pages = [hit for hit in remote.hits if hit["path"] in ("/pages", "/offset")]
    assert pages and all("lang=en" in hit["url"] and "region=eu" in hit["url"] for hit in pages)
    # Imported records are not exported back.
    assert not [hit for hit in remote.hits if hit["path"].startswith("/echo")]
