"""The README's collections walkthrough, run as written: build, export, empty the database,
plan, install; the printed lines the README shows must be what the commands print."""

import shlex
from io import StringIO

import pytest
from django.core.management import call_command

from apps.security.models import Authorization
from apps.workflows.models import Flow
from tests.test_readme import README, curl_posts, shop  # noqa: F401  (shop: a fixture)

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


def test_the_collections_walkthrough(api, shop, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    for section in (
        "## Walkthrough: a data type",
        "## Connections, authorizations",
        "## Integrations",
    ):
        for path, body in curl_posts(section):
            if "/run/" in path:
                continue
            if path.endswith("/connection/"):
                body["base_url"] = shop.url
            response = api.post(path.split("?")[0], body, format="json")
            assert response.status_code in (200, 201), (path, response.content)
    posts = curl_posts(SECTION)
    assert [path for path, _ in posts] == [
        "/api/v2/setup/collection/", "/api/v2/setup/collection/1/add/",
    ]  # fmt: skip
    created = api.post(posts[0][0], posts[0][1], format="json")
    assert created.status_code == 201, created.content
    added = api.post(
        f"/api/v2/setup/collection/{created.json()['id']}/add/", posts[1][1], format="json"
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
