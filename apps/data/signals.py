"""Events the data app announces; the workflows engine listens to them.

The records service fires one ``records_saved`` per batch it wrote (a single
record is a batch of one), inside the batch's transaction, with a
:class:`RecordsSaved` event. A record saved through the ORM by other code fires
Django's ``post_save`` as usual.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.dispatch import Signal

# kwargs: event (RecordsSaved)
records_saved = Signal()


@dataclass
class RecordsSaved:
    """One batch of the records service: what was created and what changed."""

    data_type: Any
    created: list[tuple[str, dict]] = field(default_factory=list)
    # (key, new data, previous data): observers compare the two.
    updated: list[tuple[str, dict, dict]] = field(default_factory=list)
    source: str = ""
