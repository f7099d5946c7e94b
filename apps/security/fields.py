"""Model fields whose values are stored encrypted (see :mod:`apps.security.crypto`).

In Python the value is plaintext; in the database it is a Fernet token. Empty
strings and NULL are stored as they are, so "is a secret set?" needs no key.
Fernet tokens are randomised, so the columns cannot be searched, indexed or
unique: only ``isnull`` and ``exact`` against ``""`` are meaningful lookups.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core import checks
from django.db import models

from . import crypto

MEANINGFUL_LOOKUPS = {"exact", "isnull"}


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
        if isinstance(value, str) and value:
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                return value
        return value

    def value_to_string(self, obj) -> str:
        return json.dumps(self.value_from_object(obj))

    def formfield(self, **kwargs):
        return models.Field.formfield(self, **{"form_class": forms.JSONField, **kwargs})
