"""manage.py load_records: JSON Lines, JSON and CSV files into a data type; refused
records reported by line, the others stored."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from apps.data.models import Record
from apps.data.services import data_type_save, namespace_get_or_create

pytestmark = pytest.mark.django_db

SCHEMA = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "score": {"type": "number"},
        "active": {"type": "boolean"},
    },
}


@pytest.fixture
def contact():
    return data_type_save(
        namespace=namespace_get_or_create(name="crm"), name="Contact", schema=SCHEMA
    )


def stored() -> dict:
    return {r.key: r.data for r in Record.objects.all()}


def test_json_lines_with_a_bad_line_and_a_bad_record(contact, tmp_path, capsys):
    source = tmp_path / "contacts.jsonl"
    source.write_text('{"id": 1, "email": "a@x"}\n\n{not json\n{"id": 2, "email": 42}\n{"id": 3}\n')
    with pytest.raises(CommandError) as caught:
        call_command("load_records", "crm.Contact", str(source))
    summary = json.loads(capsys.readouterr().out)
    assert (summary["created"], summary["invalid"]) == (2, 2)
    assert [e["line"] for e in summary["errors"]] == [3, 4]
    assert "not JSON" in summary["errors"][0]["error"]
    assert "$.email" in summary["errors"][1]["error"]
    assert "2 record(s) refused (the others are stored): line 3: not JSON" in str(caught.value)
    assert stored() == {"1": {"id": 1, "email": "a@x"}, "3": {"id": 3}}
    # loading the same file again changes nothing
    with pytest.raises(CommandError):
        call_command("load_records", "crm.Contact", str(source))
    assert json.loads(capsys.readouterr().out)["unchanged"] == 2


def test_csv_values_take_the_schema_types(contact, tmp_path, capsys):
    source = tmp_path / "contacts.csv"
    source.write_text("id,email,score,active,note\n1,a@x,2.5,true,hi\n2,,3,0,\n")
    call_command("load_records", "crm.Contact", str(source))
    assert json.loads(capsys.readouterr().out)["created"] == 2
    assert stored() == {
        "1": {"id": 1, "email": "a@x", "score": 2.5, "active": True, "note": "hi"},
        "2": {"id": 2, "score": 3, "active": False},
    }
    bad = tmp_path / "bad.csv"
    bad.write_text("id,email\nseven,a@x\n")
    with pytest.raises(CommandError, match=r"line 2: \$\.id"):
        call_command("load_records", "crm.Contact", str(bad))


def test_a_json_array_and_the_mistakes_a_user_makes(contact, tmp_path, capsys, monkeypatch):
    source = tmp_path / "contacts.json"
    source.write_text(json.dumps([{"id": 5}, {"id": 6}, {"id": "x"}]))
    with pytest.raises(CommandError, match=r"item 3: \$\.id"):  # by position in the array
        call_command("load_records", "crm.Contact", str(source))
    summary = json.loads(capsys.readouterr().out)
    assert summary["created"] == 2 and summary["errors"][0]["item"] == 3
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO('{"id": 8}\n{"id": 9}\n'))
    call_command("load_records", "crm.Contact", "-")  # standard input: JSON Lines
    assert json.loads(capsys.readouterr().out)["created"] == 2
    with pytest.raises(CommandError, match=r"No data type crm\.Nope"):
        call_command("load_records", "crm.Nope", str(source))
    with pytest.raises(CommandError, match=r"write NAMESPACE\.NAME"):
        call_command("load_records", "Contact", str(source))
    with pytest.raises(CommandError, match="No such file"):
        call_command("load_records", "crm.Contact", str(tmp_path / "missing.json"))
    with pytest.raises(CommandError, match="--format"):
        call_command("load_records", "crm.Contact", str(tmp_path / "data.txt"))
    (tmp_path / "object.json").write_text('{"id": 1}')
    with pytest.raises(CommandError, match="an array of records"):
        call_command("load_records", "crm.Contact", str(tmp_path / "object.json"))
