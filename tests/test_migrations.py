"""The models and their migrations agree: no change is left without a migration."""

from io import StringIO

from django.core.management import call_command


def test_no_missing_migrations(db):
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit as exit_:
        raise AssertionError(f"models changed without a migration:\n{out.getvalue()}") from exit_
