"""export_collection and import_collection on bad input: one line, a non-zero exit, no change."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.collections.services import collection_save
from tests.collections.test_install import row_counts


def fails(*args) -> str:
    before = row_counts()
    with pytest.raises(CommandError) as caught:
        call_command(*args)
    assert row_counts() == before
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_export_of_an_unknown_collection(db):
    collection_save(name="crm_sync")
    assert fails("export_collection", "crm") == "no collection 'crm' (collections: crm_sync)"


def test_import_of_bad_files_and_bad_secrets(db, tmp_path):
    missing = tmp_path / "missing.json"
    assert fails("import_collection", str(missing)) == (
        f"cannot read {missing}: No such file or directory"
    )
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": "x",\n "version": }')
    assert fails("import_collection", str(broken)) == (
        f"{broken}: nothing was installed: $: not JSON: Expecting value at line 2, column 13"
    )
    damaged = tmp_path / "damaged.json"
    damaged.write_text(
        json.dumps(
            {
                "format": "collection/1",
                "name": "x",
                "version": "1.0",
                "flows": [{"namespace": "crm", "name": "f", "translator": "nowhere"}],
            }
        )
    )
    message = fails("import_collection", str(damaged), "--dry-run")
    assert message.startswith(f"{damaged}: nothing was installed: ")
    assert "$.flows[0].translator: 'nowhere' is not a reference: write namespace.name" in message
    assert "$.version: '1.0' does not match" in message
    assert fails("import_collection", str(damaged), "--secret", "token") == (
        "--secret wants NAME=VALUE, not 'token'"
    )
