"""Events the data app announces; the workflows engine listens to them.

The records service fires ``records_saved`` with a :class:`RecordsSaved` event
for each batch it wrote: inside the batch's transaction for the observers that
judge by conditions (their tasks are stored with the records), and once more
after it for those with a trigger evaluator (user code, which no transaction
waits on). A single record saved by the service fires one event, inside its
transaction, for every observer. A record saved through the ORM by other code
fires Django's ``post_save`` as usual.
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
    # Which observers to evaluate: "all"; "plain" (conditions only, inside the
    # write's transaction); "judged" (those with a trigger evaluator, after it).
    observers: str = "all"
