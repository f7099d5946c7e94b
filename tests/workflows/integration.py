"""Cenit's generic process A → B → C as elements: used by the end-to-end test and bench/engine.py.

Process A imports system A's contacts (paged) into Contact, on a scheduler or
on demand; process B converts each new or changed Contact into a Customer;
process C posts each new or changed Customer to system B, one by one or in
bulk lots.
"""

from __future__ import annotations

from apps.data.services import data_type_save
from apps.gateway.services import connection_save, webhook_save
from apps.workflows.models import Flow, Observer, Scheduler, Translator
from apps.workflows.services import element_save
from tests.workflows.conftest import CONTACT, CUSTOMER

BODY = '{"name": {{ full_name | tojson }}, "email": {{ email | tojson }}, "ref": {{ id }}}'
BULK_BODY = (
    '[{% for r in records %}{"name": {{ r.full_name | tojson }}, "email": {{ r.email | tojson }},'
    ' "ref": {{ r.id }}}{% if not loop.last %},{% endif %}{% endfor %}]'
)


def build_integration(
    namespace,
    *,
    b_url: str,
    a_url: str | None = None,
    page_size: int = 10,
    lot_size: int = 10,
    bulk: bool = False,
    schedule: str | None = None,
) -> Flow | None:
    """The elements of the three processes; returns the import flow (None without ``a_url``)."""

    def make(model, name, **fields):
        return element_save(model=model, namespace=namespace, name=name, **fields)

    contact = data_type_save(namespace=namespace, name="Contact", schema=CONTACT)
    customer = data_type_save(namespace=namespace, name="Customer", schema=CUSTOMER)
    # Process B: convert, when a contact is created or changed.
    convert = make(
        Translator,
        "contact_to_customer",
        type="conversion",
        style="mapping",
        source_data_type=contact,
        target_data_type=customer,
        mapping={"id": "id", "full_name": "{{ first ~ ' ' ~ last }}", "email": "email"},
    )
    on_contact = make(Observer, "contact_changed", kind="observer", data_type=contact)
    make(Flow, "convert_contacts", event=on_contact, translator=convert, lot_size=lot_size)
    # Process C: export, when a customer is created or changed.
    conn_b = connection_save(namespace=namespace, name="system_b", base_url=b_url)
    post_customer = webhook_save(
        namespace=namespace,
        name="post_customer",
        path="customers",
        method="POST",
        connection=conn_b,
    )
    body = make(
        Translator,
        "customer_body",
        type="export",
        style="template",
        source_data_type=customer,
        template=BULK_BODY if bulk else BODY,
        bulk=bulk,
    )
    on_customer = make(Observer, "customer_changed", kind="observer", data_type=customer)
    make(
        Flow,
        "export_customers",
        event=on_customer,
        translator=body,
        webhook=post_customer,
        lot_size=lot_size,
    )
    if a_url is None:
        return None
    # Process A: import, on a schedule or on demand.
    conn_a = connection_save(namespace=namespace, name="system_a", base_url=a_url)
    get_contacts = webhook_save(
        namespace=namespace,
        name="get_contacts",
        path="contacts",
        method="GET",
        connection=conn_a,
        records_path="data",
        pagination={
            "type": "page_number",
            "page_param": "page",
            "size_param": "per_page",
            "size": page_size,
            "has_more_path": "more",
        },
    )
    parse = make(
        Translator,
        "parse_contacts",
        type="import",
        style="mapping",
        target_data_type=contact,
        mapping={},
    )
    event = (
        make(Scheduler, "import_schedule", kind="scheduler", expression=schedule)
        if schedule
        else None
    )
    return make(Flow, "import_contacts", event=event, translator=parse, webhook=get_contacts)
