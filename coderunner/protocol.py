"""The runner's wire format: length-prefixed JSON frames over a pair of pipes.

A frame is four bytes (big-endian unsigned length) followed by that many bytes
of UTF-8 JSON. Both sides read with a bound on the length, so a runner that
writes garbage or a huge frame is stopped before the platform allocates it.

Messages, platform → runner:

* ``{"job": KIND, ...}`` — run one job (see ``jobs.py``);
* ``{"reply": VALUE}`` / ``{"fail": {"message", "code"}}`` / ``{"abort": {...}}``
  — the answer to a call the job made.

Messages, runner → platform:

* ``{"call": OP, "args": {...}}`` — a job asks the platform for something
  (``api.records(...).save``, ``api.fetch``...); the platform answers first;
* ``{"done": RESULT}`` or ``{"error": {"message", "code", "line", "output"}}``
  — the job's end.
"""

from __future__ import annotations

import json
import os
import re
import struct
from typing import Any

try:  # a C encoder/decoder, several times faster than json's, where it gives the same values
    import orjson
except ImportError:  # pragma: no cover - a dependency; json alone works the same, slower
    orjson = None  # type: ignore[assignment]

HEADER = struct.Struct(">I")
# orjson reads integers past 64 bits as floats: a frame that may hold one goes to json.
_LONG_NUMBER = re.compile(rb"[0-9]{19}")


class ProtocolError(Exception):
    """The other side broke the protocol: closed the pipe, sent too much, or not JSON."""


def encode(message: Any) -> bytes:
    """The frame for ``message``; ValueError (NaN, a lone surrogate: UnicodeEncodeError),
    TypeError or RecursionError for what is not JSON."""
    body = json.dumps(message, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    data = body.encode("utf-8")
    return HEADER.pack(len(data)) + data


def encode_fast(message: Any) -> bytes:
    """The platform's frames (jobs, answers to calls): orjson where it can (NaN, which JSON
    has not, becomes null), else :func:`encode`."""
    if orjson is not None:
        try:
            data = orjson.dumps(message)
        except TypeError:  # an integer past 64 bits, a key that is not a string
            pass
        else:
            return HEADER.pack(len(data)) + data
    return encode(message)


def decode(data: bytes) -> Any:
    """The message of a frame's body. JSON nested past the recursion limit (what no runner
    that kept to the protocol sends: its own encoder stops there) is a ProtocolError."""
    try:
        if orjson is not None and not _LONG_NUMBER.search(data):
            return orjson.loads(data)
        return json.loads(data)
    except (ValueError, RecursionError) as error:
        raise ProtocolError(f"not a JSON frame: {error}") from None


def write_frame(fd: int, frame: bytes) -> None:
    view = memoryview(frame)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exactly(fd: int, size: int) -> bytes:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise ProtocolError("the other side closed the pipe")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
