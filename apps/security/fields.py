"""Model fields whose values are stored encrypted (see :mod:`apps.security.crypto`).

In Python the value is plaintext; in the database it is a Fernet token. Empty
strings and NULL are stored as they are, so "is a secret set?" needs no key.
Fernet tokens are randomised, so the columns cannot be searched, indexed or
unique: only ``isnull`` and ``exact`` against ``""`` are meaningful lookups.

Serialized (``dumpdata``, fixtures) a secret stays encrypted: ``encrypted:``
and its Fernet token. ``loaddata`` decrypts such values before saving (only
there: a raw save), so a dump loads back where FERNET_KEYS can read it, and a
value typed into a form or the API is never taken for ciphertext.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core import checks
from django.db import models

from . import crypto

MEANINGFUL_LOOKUPS = {"exact", "isnull"}
SERIALIZED_PREFIX = "encrypted:"


class EncryptedTextField(models.TextField):
    description = "Text encrypted at rest"

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if self.unique or self.db_index:
            errors.append(
                checks.Error(
                    "Encrypted fields cannot be unique or indexed: their ciphertext is random.",
                    obj=self,
                    id="security.E002",
                )
            )
        return errors

    def get_lookup(self, lookup_name):
        return super().get_lookup(lookup_name) if lookup_name in MEANINGFUL_LOOKUPS else None

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        try:
            return self.decode(crypto.decrypt(value))
        except crypto.DecryptionError as error:
            raise crypto.DecryptionError(f"{self.model._meta.label}.{self.name}: {error}") from None

    def get_prep_value(self, value):
        if value is None or value == "":
            return value
        return crypto.encrypt(self.encode(value))

    def value_to_string(self, obj) -> str:
        """What dumps and fixtures hold: the value encrypted, marked as such."""
        value = self.get_prep_value(self.value_from_object(obj))
        return f"{SERIALIZED_PREFIX}{value}" if value else (value or "")

    def from_serialized(self, value: Any) -> Any:
        """The plaintext of a value :meth:`value_to_string` wrote (others are as given)."""
        if isinstance(value, str) and value.startswith(SERIALIZED_PREFIX):
            return self.decode(crypto.decrypt(value[len(SERIALIZED_PREFIX) :]))
        return value

    # Subclasses store other types than text through these two.
    def encode(self, value: Any) -> str:
        return str(value)

    def decode(self, text: str) -> Any:
        return text


class EncryptedJSONField(EncryptedTextField):
    """A JSON value (e.g. headers holding credentials) encrypted as a whole."""

    description = "JSON encrypted at rest"

    def encode(self, value: Any) -> str:
        return json.dumps(value, sort_keys=True)

    def decode(self, text: str) -> Any:
        return json.loads(text)

    def to_python(self, value):
        # Form and fixture input may be JSON text; model values are Python objects.
        if isinstance(value, str) and value and not value.startswith(SERIALIZED_PREFIX):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                return value
        return value

    def formfield(self, **kwargs):
        return models.Field.formfield(self, **{"form_class": forms.JSONField, **kwargs})


def decrypt_loaded_secrets(sender, instance, raw: bool = False, **kwargs) -> None:
    """pre_save of every model (wired in apps.py): a fixture's encrypted secrets are
    decrypted before the save encrypts them again (with the current first key)."""
    if not raw:
        return
    for field in instance._meta.concrete_fields:
        if isinstance(field, EncryptedTextField):
            value = getattr(instance, field.attname)
            setattr(instance, field.attname, field.from_serialized(value))
