"""Export flows against a real local server: bodies, failures, retries without duplicates."""

import pytest

from apps.data.services import records_save
from apps.gateway.services import connection_save, webhook_save
from apps.security.services import authorization_save
from apps.workflows.engine.runner import task_run
from apps.workflows.models import Flow, Notification, Task, Translator
from apps.workflows.services import flow_run
from tests.workflows.systems import SystemB


@pytest.fixture
def export_flow(make, namespace, customer, system_b):
    connection = connection_save(
        namespace=namespace, name="b", base_url=system_b.url, max_attempts=1
    )
    webhook = webhook_save(
        namespace=namespace, name="post", path="customers", method="POST", connection=connection
    )
    body = make(
        Translator,
        "body",
        type="export",
        style="template",
        source_data_type=customer,
        template='{"ref": {{ id }}, "name": {{ full_name | tojson }}}',
    )
    token = authorization_save(
        namespace=namespace, name="flow_token", kind="bearer", token="flow-secret-token"
    )
    return make(
        Flow,
        "export",
        translator=body,
        webhook=webhook,
        scope="all",
        max_attempts=3,
        authorization=token,
    )


def customers(n):
    return [{"id": i, "full_name": f"Name {i}"} for i in range(1, n + 1)]


def test_export_sends_each_record_with_the_flows_authorization(export_flow, customer, system_b):
    records_save(data_type=customer, records=customers(3))
    task = flow_run(flow=export_flow, sync=True)
    assert task.status == "completed" and task.result["sent"] == 3
    assert system_b.received == [{"ref": i, "name": f"Name {i}"} for i in (1, 2, 3)]
    assert system_b.authorizations == ["Bearer flow-secret-token"] * 3


def test_a_failed_export_says_where_and_its_retry_sends_no_duplicates(
    export_flow, customer, system_b
):
    records_save(data_type=customer, records=customers(5))
    task = flow_run(flow=export_flow)
    system_b.fail_next = 0
    # B accepts two records, then answers 503 once.
    original = system_b.handle
    calls = {"n": 0}

    def flaky(handler, method):
        calls["n"] += 1
        if calls["n"] == 3:
            system_b.fail_next = 1
        original(handler, method)

    system_b.handle = flaky
    assert task_run(task.pk) == Task.Status.RETRYING
    warning = Notification.objects.get(task=task, level="warning")
    assert "record 3" in warning.message and "503" in warning.message
    assert warning.attachment["detail"]["keys"] == ["3"]
    assert [r["ref"] for r in system_b.received] == [1, 2]
    assert task_run(task.pk) == Task.Status.COMPLETED
    assert [r["ref"] for r in system_b.received] == [1, 2, 3, 4, 5]  # 1 and 2 not sent again
    assert "flow-secret-token" not in warning.message + str(warning.attachment)


def test_the_answer_is_stored_through_the_response_translator(
    make, namespace, export_flow, customer, system_b
):
    from apps.data.models import Record
    from apps.data.services import data_type_save

    receipts = data_type_save(
        namespace=namespace, name="Receipt", schema={"type": "object", "required": ["id"]}
    )
    export_flow.response_translator = make(
        Translator, "parse_receipt", type="import", style="mapping", target_data_type=receipts,
        mapping={"id": "id", "accepted": "ok"},
    )  # fmt: skip
    export_flow.save()
    records_save(data_type=customer, records=customers(2))
    assert flow_run(flow=export_flow, sync=True).status == "completed"
    stored = sorted(Record.objects.filter(data_type=receipts).values_list("data", flat=True),
                    key=lambda d: d["id"])  # fmt: skip
    assert stored == [{"id": "B-1", "accepted": True}, {"id": "B-2", "accepted": True}]


def test_update_flow_changes_records_in_place(make, namespace, customer):
    from apps.data.models import Record

    records_save(data_type=customer, records=customers(2))
    upper = make(Translator, "shout", type="update", style="mapping", source_data_type=customer,
                 mapping={"id": "id", "full_name": "upper(full_name)"})  # fmt: skip
    flow = make(Flow, "shout_all", translator=upper, scope="all")
    task = flow_run(flow=flow, sync=True)
    assert task.status == "completed" and task.result["updated"] == 2
    names = sorted(Record.objects.filter(data_type=customer).values_list("data__full_name",
                                                                         flat=True))  # fmt: skip
    assert names == ["NAME 1", "NAME 2"]


def test_an_answer_that_a_retry_cannot_mend_fails_at_once(export_flow, customer, system_b):
    records_save(data_type=customer, records=customers(1))
    system_b.fail_next, system_b.fail_status = 1, 422
    task = flow_run(flow=export_flow)
    assert task_run(task.pk) == Task.Status.FAILED  # 422: no retry, though 3 attempts allowed
    error = Notification.objects.get(task=task, level="error")
    assert "422" in error.message and "it will be retried" not in error.message
    assert "not retried: another attempt would fail the same way" in error.message


class StrictJSONApi(SystemB):
    """A JSON API like most: a body without a JSON Content-Type is refused with 415."""

    def __init__(self) -> None:
        super().__init__()
        self.content_types: list[str | None] = []

    def handle(self, handler, method: str) -> None:
        content_type = handler.headers.get("Content-Type")
        with self.lock:
            self.content_types.append(content_type)
        if (content_type or "").split(";")[0].strip() != "application/json":
            length = int(handler.headers.get("Content-Length") or 0)
            handler.rfile.read(length)
            return self.reply(handler, 415, {"error": "send application/json"})
        super().handle(handler, method)


@pytest.fixture
def strict_api():
    server = StrictJSONApi().start()
    yield server
    server.stop()


def test_export_sends_the_translators_mime_type(make, namespace, customer, strict_api):
    connection = connection_save(namespace=namespace, name="s", base_url=strict_api.url)
    webhook = webhook_save(
        namespace=namespace, name="post", path="customers", method="POST", connection=connection
    )
    body = make(Translator, "body", type="export", style="template", source_data_type=customer,
                mime_type="application/json", template='{"ref": {{ id }}}')  # fmt: skip
    flow = make(Flow, "export", translator=body, webhook=webhook, scope="all")
    records_save(data_type=customer, records=customers(2))
    task = flow_run(flow=flow, sync=True)
    assert task.status == "completed", task.executions.last().error
    assert strict_api.received == [{"ref": 1}, {"ref": 2}]
    assert strict_api.content_types == ["application/json; charset=utf-8"] * 2

    # A Content-Type set on the webhook wins over the translator's.
    webhook_save(namespace=namespace, name="post", instance=webhook,
                 headers={"Content-Type": "text/plain"})  # fmt: skip
    task = flow_run(flow=flow, sync=True)
    assert task.status == "failed" and "HTTP 415" in task.executions.last().error
    assert strict_api.content_types[-1] == "text/plain"
