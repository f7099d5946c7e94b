"""Moving a working integration with two commands: export here, import into an empty database.

The A → B → C integration is bundled, exported, the database emptied, the
document installed (plan first), exported again — the same bytes — and then its
flows run against the same local HTTP servers: records arrive in system B,
signed with the secret given at install.
"""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from apps.collections.kinds import KINDS
from apps.collections.models import Collection, CollectionElement
from apps.data.models import DataType, Namespace, Record
from apps.security.models import Authorization
from apps.workflows.engine.runner import task_run
from apps.workflows.models import Event, Flow, Task
from apps.workflows.services import flow_enqueue
from tests.collections.conftest import SECRETS, bundle

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def stamps() -> list:
    """When every element and record was last written."""
    return [
        (kind.name, *row)
        for kind in KINDS
        for row in kind.objects.order_by("pk").values_list("pk", "updated_at")
    ] + list(Record.objects.order_by("pk").values_list("pk", "updated_at"))


def run_pending() -> None:
    """Be the worker: run every pending task (observers enqueue them on commit)."""
    for _ in range(5):
        pending = list(Task.objects.filter(status="pending").values_list("pk", flat=True))
        if not pending:
            return
        for pk in pending:
            assert task_run(pk) == "completed", Task.objects.get(pk=pk).executions.last().error


def test_export_empty_database_install_export_run(integration, namespace, tmp_path):
    collection = bundle(namespace)
    first = tmp_path / "crm_sync.json"
    run("export_collection", "crm_sync", "-o", str(first))
    data = first.read_bytes()
    assert data == run("export_collection", "crm_sync").encode()  # the same bytes twice
    for value in [*SECRETS.values(), "at-not-exported-5d1c"]:
        assert value.encode() not in data
    assert len(CollectionElement.objects.filter(collection=collection)) == 23

    call_command("flush", interactive=False)  # installation B: an empty database
    assert not Namespace.objects.exists() and not Collection.objects.exists()

    plan = run("import_collection", str(first), "--dry-run")
    assert plan.splitlines()[0] == "collection crm_sync 1.0.0: new"
    assert "create flow crm.import_contacts" in plan and "23 create" in plan
    assert "records of crm.Country: 2 created, 0 updated, 0 unchanged" in plan
    assert "secret crm.system_b_token.token (authorization crm.system_b_token, token): missing" in (
        plan
    )
    assert not Namespace.objects.exists() and not Flow.objects.exists()  # a plan changes nothing

    secrets = [f"--secret={name}={value}" for name, value in SECRETS.items()]
    done = run("import_collection", str(first), "--activate", *secrets)
    assert done.splitlines()[-1] == "installed crm_sync 1.0.0"
    second = run("export_collection", "crm_sync").encode()
    assert second == data
    token = Authorization.objects.get(name="system_b_token")
    assert token.token == SECRETS["crm.system_b_token.token"]
    assert Authorization.objects.get(name="partner").access_token == ""  # authorize again here
    assert Event.objects.get(name="import_schedule").periodic_task.enabled
    assert Record.objects.filter(data_type__name="Country").count() == 2

    before = stamps()
    again = json.loads(run("import_collection", str(first), *secrets, "--json"))
    assert again["counts"] == {"create": 0, "update": 0, "unchanged": 23, "remove": 0, "keep": 0}
    assert again["records"] == [
        {"data_type": "crm.Country", "created": 0, "updated": 0, "unchanged": 2}
    ]
    assert stamps() == before  # installing the same document twice writes nothing

    # The integration works: contacts from A become customers posted to B, signed.
    flow_enqueue(flow=Flow.objects.get(name="import_contacts"), reason="on demand")
    run_pending()
    b = integration.b
    assert sorted(c["ref"] for c in b.received) == [1, 2, 3]
    assert {"name": "First2 Last2", "email": "c2@a.test", "ref": 2} in b.received
    assert set(b.authorizations) == {f"Bearer {SECRETS['crm.system_b_token.token']}"}
    contact = DataType.objects.get(name="Contact")
    assert Record.objects.filter(data_type=contact).count() == 3
