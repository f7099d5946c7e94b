"""The README's walkthroughs, run as written (curl bodies → the API client).

The JSON bodies and shell commands are read from README.md itself, so the
README cannot drift from what the platform accepts.
"""

import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.data.models import Record
from apps.workflows.engine.runner import task_run
from apps.workflows.models import Task
from tests.workflows.systems import _Server

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


class Shop(_Server):
    """The shop of the README: paged customers behind an API key."""

    def handle(self, handler, method):
        if handler.headers.get("X-Api-Key") != "s3cret":
            return self.reply(handler, 401, {"error": "bad key"})
        customers = [
            {"id": 1, "email": "Ann@Example.com", "address": {"city": "Paris"}},
            {"id": 2, "email": "BOB@example.com"},
        ]
        self.reply(handler, 200, {"data": customers, "meta": {"has_more": False}})


def curl_posts(section: str) -> list[tuple[str, dict]]:
    """(path, body) of every `curl … -X POST $API/<path> … -d '<json>'` in a README section."""
    text = README[README.index(section) :]
    text = text[: text.index("\n## ", 1)].replace("\\\n", " ")  # join continued lines
    calls = []
    headers = r"""(?:\s+-H (?:"[^"]*"|'[^']*'))*"""
    for url, body in re.findall(r"curl -s -X POST (\S+)" + headers + r"\s+-d '([^']*)'", text):
        calls.append((url.strip('"').replace("$API", "/api/v2"), json.loads(body)))
    for name, body in re.findall(r"^post (\w+) '(.*?)'$", text, flags=re.M | re.S):
        calls.append((f"/api/v2/setup/{name}/", json.loads(body)))
    return calls


@pytest.fixture
def shop():
    server = Shop().start()
    yield server
    server.stop()


def test_readme_walkthroughs(api, shop):
    for path, body in curl_posts("## Walkthrough: a data type and its records"):
        response = api.post(path.split("?")[0] if "async" in path else path, body, format="json")
        assert response.status_code in (200, 201), (path, response.content)
    assert sorted(Record.objects.values_list("key", flat=True)) == ["1", "3"]  # 2 and 4: invalid

    for path, body in curl_posts("## Connections, authorizations and trying a webhook"):
        if path.endswith("/connection/"):
            body["base_url"] = shop.url  # the README's shop, played locally
        response = api.post(path, body, format="json")
        assert response.status_code == 201, (path, response.content)

    for path, body in curl_posts("## Integrations: flows from system A to system B"):
        if "/run/" in path:  # the run examples name ids of another installation
            continue
        response = api.post(path, body, format="json")
        assert response.status_code == 201, (path, response.content)
    call_command("run_flow", "crm.import_customers", "--sync")
    converts = Task.objects.filter(flow__name="convert_contacts", status="pending")
    assert converts.count() == 1  # the observer fired once for the batch; a worker would run it
    assert task_run(converts.get().pk) == "completed"
    customers = api.get("/api/v2/crm/Customer/?ordering=key").json()["results"]
    assert [c["data"] for c in customers] == [
        {"id": 1, "email": "ann@example.com", "city": "Paris", "source": "shop"},
        {"id": 2, "email": "bob@example.com", "city": None, "source": "shop"},
    ]
