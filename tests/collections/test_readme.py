"""The README's collections walkthrough, run as written: build, export, empty the database,
plan, install; the printed lines the README shows must be what the commands print."""

import shlex
from io import StringIO

import pytest
from django.core.management import call_command

from apps.security.models import Authorization
from apps.workflows.models import Flow
from tests.test_readme import (  # noqa: F401  (shop: a fixture)
    COMMAND,
    README,
    SECTIONS,
    Walkthrough,
    shell_blocks,
    shop,
)

pytestmark = pytest.mark.django_db(transaction=True)

SECTION = "## Collections: moving an integration to another installation"


def shell_steps() -> list[tuple[list[str], list[str]]]:
    """(argv of each `manage.py` line, the `# ` lines that follow it) of the section."""
    text = README[README.index(SECTION) :]
    text = text[: text.index("\n## ", 1)]
    steps: list[tuple[list[str], list[str]]] = []
    for line in text.splitlines():
        if line.startswith(".venv/bin/python manage.py "):
            steps.append((shlex.split(line)[2:], []))
        elif line.startswith("# ") and steps and not line.startswith("# on the other"):
            steps[-1][1].append(line[2:])
    return steps


def test_the_collections_walkthrough(api, shop, tmp_path, monkeypatch, settings):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    settings.SYNC_WAIT_SECONDS = 0  # no worker: the walkthrough runs the pending tasks itself
    walkthrough = Walkthrough(api, shop)
    for section in SECTIONS:
        walkthrough.run(section)
    posts = [c["curl"] for c in COMMAND.finditer(shell_blocks(SECTION)) if c["curl"]]
    assert len(posts) == 2, posts
    created = walkthrough.curl(posts[0])
    assert created.status_code == 201, created.content
    added = walkthrough.curl(
        posts[1].replace("/collection/1/", f"/collection/{created.json()['id']}/")
    )
    assert added.status_code == 200, added.content
    assert {
        "kind": "translator",
        "element": "crm.parse_customers",
        "needed_by": ["flow crm.import_customers"],
    } in added.json()["pulled_in"]

    steps = shell_steps()
    assert [argv[0] for argv, _ in steps] == [
        "export_collection", "import_collection", "import_collection",
    ]  # fmt: skip
    for number, (argv, shown) in enumerate(steps):
        if number == 1:
            call_command("flush", interactive=False)  # "on the other installation"
        out = StringIO()
        call_command(*argv, stdout=out, stderr=StringIO())
        printed = out.getvalue().splitlines()
        for line in shown:
            assert line in printed, (line, printed)
    assert Flow.objects.filter(name="import_customers", event__active=True).exists()
    assert Authorization.objects.get(name="shop_key").key_value == "s3cret"
