"""How a record is written out, and its digest.

The records service stores a digest of each record's JSON text beside it, so
that a re-import can tell an unchanged record by comparing 32 characters
instead of reading and decoding the stored document (a quarter of a re-import's
time, measured by bench/import_flow.py). Equal digests mean equal texts, hence
equal records; unequal ones prove nothing (another key order, a row written
before digests existed), so the service then compares the decoded documents.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson

DIGEST_LENGTH = 32  # hex characters of a 16-byte BLAKE2b digest

# orjson writes JSON's own types ~10x faster than json.dumps (bench/import_flow.py);
# whatever else it would write, json.dumps decides on (and refuses as before).
_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def record_text(data: Any) -> str:
    """The JSON text of a record as the records service writes it.

    The same as ``json.dumps(data)`` would write, but for spacing and
    non-ASCII characters (kept as they are, UTF-8). Records orjson cannot
    write exactly (integers past 64 bits, keys that are not strings, NaN and
    infinities, which it would turn into null) go to ``json.dumps``.
    """
    try:
        text = orjson.dumps(data, option=_STRICT)
    except TypeError:
        return json.dumps(data)
    if b"null" in text:  # a null of the record's own, or a NaN orjson turned into null?
        try:
            json.dumps(data, allow_nan=False)
        except ValueError:
            return json.dumps(data)
    return text.decode()


def text_digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=DIGEST_LENGTH // 2).hexdigest()


def record_digest(data: Any) -> str:
    return text_digest(record_text(data))
