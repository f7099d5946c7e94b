"""Encryption at rest: ciphertext in the database, plaintext in Python, key rotation."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from apps.security import crypto, services
from apps.security.checks import fernet_keys_check
from apps.security.fields import EncryptedJSONField
from apps.security.models import Authorization

SECRET = "correct-horse-battery-staple"


def raw_column(model, pk: int, column: str) -> str:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE id = %s", [pk]
        )
        return cursor.fetchone()[0]


def test_secret_is_ciphertext_in_the_database_and_plaintext_in_python(namespace):
    authorization = services.authorization_save(
        namespace=namespace, name="b", kind="basic", username="u", password=SECRET
    )
    stored = raw_column(Authorization, authorization.pk, "password")
    assert SECRET not in stored
    assert crypto.decrypt(stored) == SECRET
    assert Authorization.objects.get(pk=authorization.pk).password == SECRET


def test_each_save_encrypts_anew(namespace):
    first = services.authorization_save(namespace=namespace, name="a", kind="bearer", token=SECRET)
    second = services.authorization_save(namespace=namespace, name="b", kind="bearer", token=SECRET)
    assert raw_column(Authorization, first.pk, "token") != raw_column(
        Authorization, second.pk, "token"
    )


def test_empty_secrets_are_stored_empty(namespace):
    authorization = services.authorization_save(namespace=namespace, name="n", kind="none")
    assert raw_column(Authorization, authorization.pk, "password") == ""
    assert Authorization.objects.filter(password="").count() == 1


def test_key_rotation(namespace, settings):
    old_key, new_key = crypto.generate_key(), crypto.generate_key()
    with override_settings(FERNET_KEYS=[old_key]):
        authorization = services.authorization_save(
            namespace=namespace, name="b", kind="bearer", token=SECRET
        )
    # The new key encrypts; the old one still decrypts what it encrypted.
    with override_settings(FERNET_KEYS=[new_key, old_key]):
        assert Authorization.objects.get(pk=authorization.pk).token == SECRET
        call_command("reencrypt_secrets", verbosity=0)
    # Once everything is re-encrypted, the old key can go.
    with override_settings(FERNET_KEYS=[new_key]):
        assert Authorization.objects.get(pk=authorization.pk).token == SECRET
    with override_settings(FERNET_KEYS=[old_key]), pytest.raises(crypto.DecryptionError) as error:
        Authorization.objects.get(pk=authorization.pk)
    assert "security.Authorization.token" in str(error.value)
    assert SECRET not in str(error.value)


def test_encrypted_json_field_round_trip():
    field = EncryptedJSONField()
    value = {"X-Token": SECRET, "n": [1, 2]}
    stored = field.get_prep_value(value)
    assert SECRET not in stored
    assert field.from_db_value(stored, None, connection) == value


def test_invalid_fernet_key_fails_the_system_check(settings):
    settings.FERNET_KEYS = [crypto.generate_key(), "not-a-key"]
    errors = fernet_keys_check()
    assert [error.id for error in errors] == ["security.E001"]
    assert "#2" in errors[0].msg and "not-a-key" not in errors[0].msg


def test_valid_fernet_keys_pass_the_system_check(settings):
    settings.FERNET_KEYS = [crypto.generate_key(), crypto.generate_key()]
    assert fernet_keys_check() == []
