"""create_connector and /api/v2/connector_factory/: summaries, errors by path, permissions."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.core.management import call_command

from apps.connector_factory.models import Connector
from apps.data.models import Namespace
from tests import workers

from .specs import contact_spec

BASE = "/api/v2/connector_factory"


def test_create_connector_prints_a_summary_and_is_idempotent(db, tmp_path, capsys):
    spec = contact_spec("https://crm.example.com/v2", type="bearer", token="tok-SECRET-9")
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    call_command("create_connector", str(path))
    summary = json.loads(capsys.readouterr().out)
    assert summary["namespace"] == "crm_demo" and summary["collection"] == "crm_demo"
    assert {"kind": "algorithm", "name": "do_import_contacts"} in summary["elements"]
    assert len(summary["created"]) == len(summary["elements"])
    call_command("create_connector", str(path))
    again = json.loads(capsys.readouterr().out)
    assert again["created"] == again["updated"] == again["removed"] == []
    assert "tok-SECRET-9" not in json.dumps(summary)


def test_create_connector_refuses_a_bad_spec_in_one_line(db, tmp_path):
    spec = contact_spec("https://crm.example.com/v2")
    del spec["resources"][0]["import"]["get_many"]
    spec["resources"][0]["export"]["id_path"] = "data[0"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(spec))
    env = {"DATABASE_URL": workers.test_database_url()}
    run = subprocess.run(
        [sys.executable, "manage.py", "create_connector", str(path)],
        cwd=workers.ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "resources[0].import.get_many is required for the import process" in lines[0]
    assert "resources[0].export.id_path: 'data[0' is not a valid JMESPath expression" in lines[0]
    assert not Connector.objects.exists()


def test_the_api_creates_reads_changes_and_deletes_connectors(db, api):
    spec = contact_spec("https://crm.example.com/v2", type="basic", username="u",
                        password="pw-SECRET-7")  # fmt: skip
    created = api.post(f"{BASE}/connector/", spec, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["namespace"] == "crm_demo"
    assert "pw-SECRET-7" not in created.content.decode()
    again = api.post(f"{BASE}/connector/", spec, format="json")
    assert again.status_code == 400 and "PUT connector/crm_demo/" in again.json()["errors"][0]
    listed = api.get(f"{BASE}/connector/").json()
    assert [c["name"] for c in listed] == ["crm_demo"]
    detail = api.get(f"{BASE}/connector/crm_demo/").json()
    assert detail["spec"]["authorization"]["password"] == ""
    assert {"kind": "flow", "name": "export_contact"} in detail["elements"]
    assert "pw-SECRET-7" not in json.dumps(listed) + json.dumps(detail)

    spec["authorization"]["password"] = ""  # keep the stored one
    spec["resources"][0]["processes"] = ["import"]
    changed = api.put(f"{BASE}/connector/crm_demo/", spec, format="json")
    assert changed.status_code == 200, changed.content
    assert "export_contact" in changed.json()["removed"]
    bad = api.put(f"{BASE}/connector/crm_demo/", {**spec, "resources": []}, format="json")
    assert bad.status_code == 400
    assert bad.json() == {"errors": ["resources needs at least 1 item(s)"]}
    assert api.delete(f"{BASE}/connector/crm_demo/?drop_records=1").status_code == 204
    assert not Connector.objects.exists() and not Namespace.objects.filter(name="crm_demo").exists()
    assert api.get(f"{BASE}/connector/crm_demo/").status_code == 404


def test_the_api_serves_the_spec_schema_and_the_openapi_schema_builds(db, api):
    schema = api.get(f"{BASE}/schema/")
    assert schema.status_code == 200 and schema.json()["title"] == "Connector spec"
    openapi = api.get("/api/schema/")
    assert openapi.status_code == 200 and b"/api/v2/connector_factory/connector/" in openapi.content


def test_the_api_enforces_namespace_permissions(db, api, api_as, make_user, grant):
    api.post(f"{BASE}/connector/", contact_spec("https://crm.example.com"), format="json")
    alice = make_user("alice")
    as_alice = api_as(alice)
    assert as_alice.get(f"{BASE}/connector/").json() == []
    assert as_alice.get(f"{BASE}/connector/crm_demo/").status_code == 404
    theirs = contact_spec("https://x.example.com", name="alices")
    denied = as_alice.post(f"{BASE}/connector/", theirs, format="json")
    assert denied.status_code == 403 and "create namespace 'alices'" in denied.json()["detail"]
    grant(alice, Namespace.objects.get(name="crm_demo"))
    assert as_alice.get(f"{BASE}/connector/crm_demo/").status_code == 200
    spec = contact_spec("https://crm.example.com/v3")
    assert as_alice.put(f"{BASE}/connector/crm_demo/", spec, format="json").status_code == 403
    assert as_alice.delete(f"{BASE}/connector/crm_demo/").status_code == 403
    assert Connector.objects.get().spec["connection"]["base_url"] == "https://crm.example.com"


def test_the_admin_lists_connectors_read_only(db, client, admin_user, make_user, grant):
    from apps.connector_factory.generator import connector_generate

    connector = connector_generate(
        spec=contact_spec("https://crm.example.com", type="bearer", token="tok-SECRET-5"),
        actor=admin_user,
    ).connector
    client.force_login(admin_user)
    listing = client.get("/admin/connector_factory/connector/")
    assert listing.status_code == 200 and b"crm_demo" in listing.content
    page = client.get(f"/admin/connector_factory/connector/{connector.pk}/change/")
    assert page.status_code == 200 and b"tok-SECRET-5" not in page.content
    assert b'name="_save"' not in page.content  # read-only: the wizard is the editor
    staff = make_user("staff", is_staff=True)
    client.force_login(staff)
    assert b"crm_demo" not in client.get("/admin/connector_factory/connector/").content
