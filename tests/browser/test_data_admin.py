"""The data admin in a real browser: a user defines a data type and edits records."""

import json

import pytest

from apps.data.models import DataType, Record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCHEMA = {
    "type": "object",
    "required": ["id", "email"],
    "properties": {"id": {"type": "integer"}, "email": {"type": "string"}},
}


def test_define_data_type_and_records(admin_page, live_server, namespace):
    page = admin_page
    page.goto(f"{live_server.url}/admin/data/datatype/add/")
    page.select_option("#id_namespace", label="crm")
    page.fill("#id_name", "Contact")
    page.fill("#id_schema", '{"type": "objekt"')
    assert "invalid JSON" in page.inner_text(".json-editor-status")
    page.fill("#id_schema", '{"type": "objekt"}')
    page.click("input[name=_save]")
    assert "Invalid schema at schema['type']" in page.inner_text(".errorlist")
    assert not DataType.objects.exists()

    page.fill("#id_schema", json.dumps(SCHEMA))
    page.click(".json-editor-format")
    assert '\n  "type": "object"' in page.input_value("#id_schema")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    data_type = DataType.objects.get(name="Contact")
    assert data_type.schema == SCHEMA

    page.goto(f"{live_server.url}/admin/data/record/add/")
    page.select_option("#id_data_type", label="crm.Contact")
    page.fill("#id_data", '{"id": 1, "email": 42}')
    page.click("input[name=_save]")
    assert '$.email: 42 is not of type "string"' in page.inner_text(".errorlist")
    assert not Record.objects.exists()

    page.fill("#id_data", '{"id": 1, "email": "ann@example.com"}')
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert Record.objects.get(key="1").data["email"] == "ann@example.com"

    page.fill("#searchbar", "ann@example")
    with page.expect_navigation():  # the search's page, not the one it leaves
        page.press("#searchbar", "Enter")
    row = page.inner_text("#result_list tbody")
    assert "ann@example.com" in row and "crm.Contact" in row
