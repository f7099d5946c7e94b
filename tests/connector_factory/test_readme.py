"""The README's "Connector Factory from a spec" section, run as written against the local CRM."""

from __future__ import annotations

import io
import json
import re
import shlex
from pathlib import Path

from django.core.management import call_command

from apps.data.models import Record

from .conftest import run_pending

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
SECTION = "## Connector Factory from a spec (create_connector / API)"


def section() -> str:
    text = README[README.index(SECTION) :]
    return text[: text.index("\n## ", 1)]


def test_the_readme_spec_and_commands_work(db, crm, tmp_path, monkeypatch):
    text = section()
    spec = json.loads(re.search(r"```json\n(.*?)```", text, re.S).group(1))
    spec["connection"]["base_url"] = crm.url  # the CRM of the example, here
    crm.auth = ("bearer", spec["authorization"]["token"])
    monkeypatch.chdir(tmp_path)
    (tmp_path / "crm_demo.json").write_text(json.dumps(spec))
    commands = re.findall(r"^\.venv/bin/python manage\.py (.*)$", text, re.M)
    assert commands[0] == "create_connector crm_demo.json"
    out = io.StringIO()
    call_command(*shlex.split(commands[0]), stdout=out)
    summary = json.loads(out.getvalue())
    assert len(summary["created"]) == 24 == len(summary["elements"])
    for command in commands[1:]:
        call_command(*shlex.split(command), stdout=io.StringIO())
        run_pending()
    stored = Record.objects.filter(data_type__namespace__name="crm_demo")
    assert stored.count() == 1000
