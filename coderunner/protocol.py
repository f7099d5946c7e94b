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
import struct
from typing import Any

HEADER = struct.Struct(">I")


class ProtocolError(Exception):
    """The other side broke the protocol: closed the pipe, sent too much, or not JSON."""


def encode(message: Any) -> bytes:
    """The frame for ``message``; ValueError (NaN, a lone surrogate: UnicodeEncodeError),
    TypeError or RecursionError for what is not JSON."""
    body = json.dumps(message, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    data = body.encode("utf-8")
    return HEADER.pack(len(data)) + data


def decode(data: bytes) -> Any:
    """The message of a frame's body. JSON nested past the recursion limit (what no runner
    that kept to the protocol sends: its own encoder stops there) is a ProtocolError."""
    try:
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
