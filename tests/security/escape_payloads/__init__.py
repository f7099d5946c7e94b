"""The escape corpus: payloads that try to break out of the runners, as data.

Each :class:`Payload` is run through the API as a non-superuser by
``tests/security/test_escape_corpus.py``, which then checks that every canary
is untouched (``tests/security/escape_harness.py``). ``expect`` is a regular
expression the outcome must match, written ``"<how it ended>: <what it said>"``:

* ``refused: …`` — the save answered 400 with that message;
* ``failed: …`` — the task failed with that error;
* ``completed: …`` — the task finished with that (harmless) result.

Tokens in a payload's source are replaced by the stage: ``CANARY_PATH`` (the
canary file), ``DATA_DIR``, ``LISTENER_PORT`` (the listener that must see no
connection), ``WORKER_PID`` (the worker that must stay alive), ``ENV_NAME``
(the environment variable holding a secret in that worker).
"""

from __future__ import annotations

from .base import Payload
from .exhaustion import PAYLOADS as EXHAUSTION
from .jinja import PAYLOADS as JINJA
from .modules import PAYLOADS as MODULES
from .python import PAYLOADS as PYTHON
from .review import PAYLOADS as REVIEW

PAYLOADS: list[Payload] = [*REVIEW, *PYTHON, *MODULES, *EXHAUSTION, *JINJA]

__all__ = ["PAYLOADS", "Payload"]
