"""Fixtures for the workflows tests: a small data model A → B, helpers to build elements."""

import pytest

from apps.data.services import data_type_save
from apps.workflows.models import Algorithm, Flow, Observer, Translator
from apps.workflows.services import element_save

CONTACT = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": "integer"},
        "first": {"type": "string"},
        "last": {"type": "string"},
        "email": {"type": "string"},
        "status": {"type": "string"},
    },
}
CUSTOMER = {
    "type": "object",
    "required": ["id", "full_name"],
    "properties": {
        "id": {"type": "integer"},
        "full_name": {"type": "string"},
        "email": {"type": "string"},
    },
}


@pytest.fixture
def contact(namespace):
    return data_type_save(namespace=namespace, name="Contact", schema=CONTACT)


@pytest.fixture
def customer(namespace):
    return data_type_save(namespace=namespace, name="Customer", schema=CUSTOMER)


@pytest.fixture
def make(namespace):
    """make(Model, name, **fields): an element saved through the workflows service."""

    def build(model, name, **fields):
        return element_save(model=model, namespace=namespace, name=name, **fields)

    return build


@pytest.fixture
def converter(make, contact, customer):
    return make(
        Translator,
        "contact_to_customer",
        type="conversion",
        style="mapping",
        source_data_type=contact,
        target_data_type=customer,
        mapping={"id": "id", "full_name": "{{ first ~ ' ' ~ last }}", "email": "email"},
    )


@pytest.fixture
def convert_flow(make, contact, converter):
    observer = make(Observer, "contact_changed", kind="observer", data_type=contact)
    return make(Flow, "convert_contacts", event=observer, translator=converter, lot_size=10)


@pytest.fixture
def algorithm(make):
    def build(name, code, parameters=(), **fields):
        params = [{"name": p, "type": "any"} for p in parameters]
        return make(Algorithm, name, code=code, parameters=params, **fields)

    return build


@pytest.fixture
def adder(api, namespace):
    """The algorithm crm.add(a, b=1), created through the API."""
    response = api.post(
        "/api/v2/setup/algorithm/",
        {
            "namespace": "crm",
            "name": "add",
            "code": "return a + b",
            "parameters": [
                {"name": "a", "type": "integer"},
                {"name": "b", "type": "integer", "default": 1},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def system_b():
    """System B of tests/workflows/systems.py, serving on a free port for the test."""
    from tests.workflows.systems import SystemB

    server = SystemB().start()
    yield server
    server.stop()
