"""What a new user met in the console, in a real browser: running things, grouped and typed
forms, a readable Try page, and layouts that hold."""

import json

import pytest

from apps.data.services import data_type_save, records_save
from apps.gateway.models import Webhook
from apps.gateway.services import connection_save, webhook_save
from apps.workflows.models import Algorithm, Flow, Task, Translator
from apps.workflows.services import element_save, notify
from tests.workflows.systems import SystemB

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_run_an_algorithm_with_input_checked_against_its_parameters(admin_page, live_server,
                                                                    namespace):  # fmt: skip
    page = admin_page
    add = element_save(model=Algorithm, namespace=namespace, name="add", code="return a + b",
                       parameters=[{"name": "a", "type": "integer"},
                                   {"name": "b", "type": "integer", "default": 1}])  # fmt: skip
    page.goto(f"{live_server.url}/admin/workflows/algorithm/{add.pk}/change/")
    page.click("#run-with-input")
    assert json.loads(page.input_value("#id_input")) == {"a": 0, "b": 1}  # a template to fill
    for given, problem in (('{"a": "two"}', "'a' must be an integer"),
                           ('{"b": 2}', "'a' is missing"),
                           ('{"a": 1, "c": 3}', "unknown argument(s) c")):  # fmt: skip
        page.fill("#id_input", given)
        page.click("#run-form input[type=submit]")
        assert problem in page.inner_text(".errorlist")
    assert not Task.objects.exists()  # nothing ran
    page.fill("#id_input", '{"a": 2, "b": 3}')
    page.check("#id_wait")
    page.click("#run-form input[type=submit]")
    page.wait_for_selector(".messagelist")
    task = Task.objects.get()
    assert task.status == "completed" and task.result == 5
    assert f"/admin/workflows/task/{task.pk}/change/" in page.url


@pytest.fixture
def export_setup(namespace):
    customer = data_type_save(namespace=namespace, name="Customer", schema={"type": "object"})
    records_save(data_type=customer, records=[{"id": 1}])
    server = SystemB().start()
    connection = connection_save(namespace=namespace, name="b", base_url=server.url)
    webhook = webhook_save(namespace=namespace, name="post", path="customers", method="POST",
                           connection=connection)  # fmt: skip
    body = element_save(model=Translator, namespace=namespace, name="body", type="export",
                        style="template", source_data_type=customer,
                        template='{"ref": {{ id }}}')  # fmt: skip
    flow = element_save(model=Flow, namespace=namespace, name="export", translator=body,
                        webhook=webhook, scope="all")  # fmt: skip
    yield flow, webhook, server
    server.stop()


def test_the_flow_page_is_grouped_and_has_a_run_button(admin_page, live_server, export_setup):
    page = admin_page
    flow, _, _ = export_setup
    page.goto(f"{live_server.url}/admin/workflows/flow/{flow.pk}/change/")
    legends = [h.strip() for h in page.locator("fieldset h2").all_inner_texts()]
    assert legends == ["What", "When", "Where to send", "Answers", "Reliability"]
    page.click("#run-flow")
    page.wait_for_selector(".messagelist .success")
    assert "Flow crm.export: task #" in page.inner_text(".messagelist")
    assert Task.objects.get().flow == flow


def test_pagination_is_a_type_and_its_options(admin_page, live_server, namespace):
    page = admin_page
    page.goto(f"{live_server.url}/admin/gateway/webhook/add/")
    page.select_option("#id_namespace", label="crm")
    page.fill("#id_name", "list")
    page.fill("#id_path", "items")
    page.select_option(".pagination-type", "offset")
    assert page.is_visible("#id_pagination__offset__limit")
    assert not page.is_visible("#id_pagination__page_number__page_param")
    page.fill("#id_pagination__offset__limit", "0")
    page.click("input[name=_save]")
    assert "'limit' must be an integer from 1" in page.inner_text(".errorlist")
    assert page.is_visible("#id_pagination__offset__limit")  # the chosen type stays shown
    page.fill("#id_pagination__offset__limit", "50")
    page.fill("#id_pagination__offset__total_path", "meta.total")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert Webhook.objects.get().pagination == {
        "type": "offset", "limit": 50, "total_path": "meta.total"
    }  # fmt: skip
    page.goto(f"{live_server.url}/admin/gateway/webhook/{Webhook.objects.get().pk}/change/")
    assert page.input_value("#id_pagination__offset__limit") == "50"
    page.select_option(".pagination-type", "none")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert Webhook.objects.get().pagination == {}


def test_try_a_post_webhook_with_a_body_and_see_records_collapsed(admin_page, live_server,
                                                                  export_setup):  # fmt: skip
    page = admin_page
    _, webhook, server = export_setup
    page.goto(f"{live_server.url}/admin/gateway/webhook/{webhook.pk}/try/")
    page.fill("#id_body", '{"name": "Ann"}')
    page.click("input[type=submit]")
    page.wait_for_selector("#try-status")
    assert server.received == [{"name": "Ann"}]
    record = page.locator("#try-records details")
    assert record.count() == 1 and record.get_attribute("open") is None
    assert '"id": "B-1"' in page.inner_text("#try-records summary")


def test_json_editor_messages_stay_on_one_line(admin_page, live_server, namespace):
    page = admin_page
    page.goto(f"{live_server.url}/admin/data/datatype/add/")
    area = page.locator("#id_schema")
    width = area.bounding_box()["width"]
    status = page.locator(".json-editor-status")
    line = status.bounding_box()["height"]
    area.fill('{"type": "object", "properties": {"a very long name": ' + "[" * 40)
    assert "invalid JSON" in status.inner_text()
    assert status.bounding_box()["height"] <= line + 1  # no wrapping
    assert abs(area.bounding_box()["width"] - width) < 1  # the textarea kept its width


def test_notifications_fit_the_page(admin_page, live_server, export_setup, namespace):
    page = admin_page
    flow, _, _ = export_setup
    task = Task.objects.create(namespace=namespace, kind="flow_execution", flow=flow,
                               description=f"Flow {flow} (on demand)")  # fmt: skip
    notify(namespace=namespace, level="error", task=task,
           message=f"Flow {flow}: exporting record 1 failed: " + "x" * 2000)  # fmt: skip
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/admin/workflows/notification/")
    table = page.locator("#result_list")
    assert table.evaluate("t => t.scrollWidth") <= page.evaluate("document.body.clientWidth")
    row = page.inner_text("#result_list tbody tr")
    assert f"#{task.pk}" in row and row.count("crm.export") == 1
