"""Writing a connector's elements (filled in by the generator's next step)."""

from __future__ import annotations


def generate(*, spec, actor, drop_records=False):
    raise NotImplementedError


def existing_elements(connector):
    return []


def remove_elements(connector, *, keep_data_types: bool) -> None:
    raise NotImplementedError
