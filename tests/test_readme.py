"""The README's examples, run in order as written, on a fresh database.

Every shell command of the walkthrough sections is read from README.md itself
(curl calls → the API client, ``post`` → a setup POST, ``id_of`` → the
lookup it does, ``manage.py …`` → the command), so the README cannot drift
from what the platform accepts, and names only elements it has created. A
worker's part (running the tasks the commands enqueue) is played by running
the pending tasks after each command.
"""

import io
import json
import re
import shlex
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.data.models import Record
from apps.workflows.engine.runner import task_run
from apps.workflows.models import Task
from tests.workflows.systems import _Server

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
SECTIONS = [
    "## Walkthrough: a data type and its records",
    "## Connections, authorizations and trying a webhook",
    "## Integrations: flows from system A to system B",
]
COMMAND = re.compile(
    r"^post (?P<post>\w+) '(?P<body>(?:.|\n)*?)'$"
    r"|^curl -s (?P<curl>[^\n']*(?:'[^']*'[^\n']*)*)$"  # a quoted body may span lines
    r"|^(?P<var>\w+)=\$\(id_of (?P<kind>\w+) (?P<name>\w+)\)$"
    r"|^\.venv/bin/python manage\.py (?P<manage>[^\n]*)$",
    re.M,
)


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


def shell_blocks(section: str) -> str:
    text = README[README.index(section) :]
    text = text[: text.index("\n## ", 1)]
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    return "\n".join(blocks).replace("\\\n", " ")  # continued lines joined


def without_comment(line: str) -> str:
    return re.sub(r"\s+#[^'\"]*$", "", line)


@pytest.fixture
def shop():
    server = Shop().start()
    yield server
    server.stop()


def run_pending_tasks():
    """What a worker would do meanwhile."""
    for task in Task.objects.filter(status="pending").order_by("pk"):
        task_run(task.pk)


class Walkthrough:
    """Runs the shell commands of README sections in order, as a user would type them."""

    def __init__(self, api, shop) -> None:
        self.api, self.shop = api, shop
        self.variables: dict[str, str] = {}
        self.first_task: list[int] = []
        self.ran: list[str] = []

    def expand(self, text: str) -> str:
        text = re.sub(r"\$(FLOW|ALGORITHM)\b", lambda m: self.variables[m.group(1)], text)
        if self.first_task:  # "the first task of a fresh instance": the one the README made
            first = self.first_task[0]
            text = re.sub(r"task(/|=)1\b", lambda m: f"task{m.group(1)}{first}", text)
        return text.replace("$API", "/api/v2")

    def send(self, method: str, path: str, body=None):
        if path.endswith("/setup/connection/") and body:
            body = {**body, "base_url": self.shop.url}  # the README's shop, played locally
        response = getattr(self.api, method.lower())(path, body, format="json")
        assert response.status_code < 400, (method, path, response.content[:500])
        return response

    def run(self, section: str) -> None:
        for command in COMMAND.finditer(shell_blocks(section)):
            self.ran.append(command.group(0)[:60])
            if command["post"]:
                body = json.loads(command["body"])
                self.send("POST", f"/api/v2/setup/{command['post']}/", body)
            elif command["var"]:
                query = {"namespace": "crm", "name": command["name"]}
                listed = self.api.get(f"/api/v2/setup/{command['kind']}/", query).json()
                self.variables[command["var"]] = str(listed["results"][0]["id"])
            elif command["curl"]:
                self.curl(command["curl"])
            else:
                line = without_comment(command["manage"]).split(">")[0]
                out, err = io.StringIO(), io.StringIO()
                call_command(*shlex.split(line), stdout=out, stderr=err)
                if "--sync" in line and "run_" in line:
                    assert json.loads(out.getvalue())["status"] == "completed", out.getvalue()
            run_pending_tasks()

    def curl(self, command: str):
        line = without_comment(command)
        method = re.search(r"-X (\w+)", line)
        path = re.search(r"\"?(\$API[^\"\s]*)\"?", line).group(1)
        body = re.search(r"-d '([^']*)'", line)
        response = self.send(method.group(1) if method else "GET", self.expand(path),
                             json.loads(body.group(1)) if body else None)  # fmt: skip
        if "async=1" in path:
            assert response.status_code == 202
            self.first_task.append(response.json()["task"])
        return response


def test_readme_examples_run_in_order(api, shop, settings):
    # No worker here: {"sync": true} answers 202 at once, and the worker's part is played
    # by running the pending tasks after each command.
    settings.SYNC_WAIT_SECONDS = 0
    walkthrough = Walkthrough(api, shop)
    for section in SECTIONS:
        walkthrough.run(section)
    ran, first_task = walkthrough.ran, walkthrough.first_task

    assert any("run_algorithm crm.add" in command for command in ran)
    assert any("/setup/flow/$FLOW/run/" in command for command in ran)
    assert len(ran) >= 25
    contacts = Record.objects.filter(data_type__name="Contact")
    assert sorted(contacts.values_list("key", flat=True)) == ["1", "2", "3"]  # 4: invalid
    assert Task.objects.get(pk=first_task[0]).status == "completed"
    customers = api.get("/api/v2/crm/Customer/").json()["results"]
    assert [c["data"] for c in customers] == [
        {"id": 1, "email": "ann@example.com", "city": "Paris", "source": "shop"},
        {"id": 2, "email": "bob@example.com", "city": None, "source": "shop"},
    ]
    task = Task.objects.filter(algorithm__name="add").order_by("pk").last()
    assert task.result == 5
