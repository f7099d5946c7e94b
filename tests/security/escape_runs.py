"""Running a payload of the escape corpus as the attacker, through the API, by kind.

* ``algorithm`` — saved (``POST /api/v2/setup/algorithm/``) and run with ``{"sync": true}``;
* ``template`` — an export translator and a flow to the sink;
* ``mapping`` — a conversion translator with the payload as a Jinja field, and a flow;
* ``webhook_body`` — a webhook to the sink with the payload as its body template, and an
  algorithm calling ``api.submit`` on it.

A save answered 400 is the outcome ``refused``; else the task's status is, once it has
finished (followed past the sync wait if it answered 202).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .escape_harness import ATTACKER_NS, WALL_LIMIT

if TYPE_CHECKING:
    from .escape_harness import Stage


@dataclass
class Outcome:
    """How a payload ended: ``refused`` (400 on save), ``failed`` or ``completed``."""

    kind: str
    text: str
    seen: list[str]  # everything the attacker got back, to search for secrets
    seconds: float

    def __str__(self) -> str:
        return f"{self.kind}: {self.text}"


FINISHED = {"completed", "failed", "cancelled", "broken", "paused"}


def _ref(name: str) -> dict[str, str]:
    return {"namespace": ATTACKER_NS, "name": name}


class Refused(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def run_payload(stage: Stage, payload, name: str) -> Outcome:
    """Save the payload's elements and run it, as the attacker, through the API."""
    seen: list[str] = []
    started = time.monotonic()
    source = stage.substitute(payload.source).replace("SELF_NAME", name)
    try:
        answer = _RUNS[payload.kind](stage, source, name, payload, seen)
    except Refused as refused:
        return Outcome("refused", refused.text, seen, time.monotonic() - started)
    task = answer.json()
    while task["status"] not in FINISHED:  # 202: the sync wait passed; follow the task
        if time.monotonic() - started > WALL_LIMIT:
            break
        time.sleep(0.05)
        task = _get(stage, f"/api/v2/setup/task/{task['id']}/", seen)
    notes = _get(stage, f"/api/v2/setup/notification/?task={task['id']}", seen)
    text = task["error"] if task["status"] != "completed" else json.dumps(task["result"])
    if task["status"] == "failed" and notes["results"]:
        text = f"{text} | {notes['results'][0]['message']}"
    return Outcome(
        task["status"] if task["status"] in FINISHED else "unfinished",
        text,
        seen,
        time.monotonic() - started,
    )


def _post(stage: Stage, url: str, body: dict, seen: list[str]) -> dict:
    response = stage.client.post(url, body, format="json")
    seen.append(response.content.decode(errors="replace"))
    if response.status_code == 400:
        raise Refused(response.content.decode())
    assert response.status_code in (200, 201, 202), (url, response.status_code, response.content)
    return response


def _get(stage: Stage, url: str, seen: list[str]) -> dict:
    response = stage.client.get(url)
    seen.append(response.content.decode(errors="replace"))
    assert response.status_code == 200, (url, response.status_code, response.content)
    return response.json()


def _algorithm(stage: Stage, code: str, name: str, time_limit: float, seen: list[str]):
    body = {"namespace": ATTACKER_NS, "name": name, "code": code, "time_limit": time_limit}
    created = _post(stage, "/api/v2/setup/algorithm/", body, seen).json()
    url = f"/api/v2/setup/algorithm/{created['id']}/run/"
    return _post(stage, url, {"sync": True, "input": {}}, seen)


def _run_algorithm(stage, source, name, payload, seen):
    return _algorithm(stage, source, name, payload.time_limit, seen)


def _run_flow(stage: Stage, translator: dict, flow: dict, name: str, seen: list[str]):
    _post(stage, "/api/v2/setup/translator/", {"namespace": ATTACKER_NS, "name": name,
                                               **translator}, seen)  # fmt: skip
    body = {"namespace": ATTACKER_NS, "name": name, "translator": _ref(name), "scope": "all",
            "auto_retry": False, **flow}  # fmt: skip
    created = _post(stage, "/api/v2/setup/flow/", body, seen).json()
    return _post(stage, f"/api/v2/setup/flow/{created['id']}/run/", {"sync": True}, seen)


def _run_template(stage, source, name, payload, seen):
    translator = {"type": "export", "style": "template", "source_data_type": _ref("Item"),
                  "template": source, "mime_type": "text/plain"}  # fmt: skip
    return _run_flow(stage, translator, {"webhook": _ref("post")}, name, seen)


def _run_mapping(stage, source, name, payload, seen):
    translator = {"type": "conversion", "style": "mapping", "source_data_type": _ref("Item"),
                  "target_data_type": _ref("Out"),
                  "mapping": {"id": "id", "value": source}}  # fmt: skip
    return _run_flow(stage, translator, {}, name, seen)


def _run_webhook_body(stage, source, name, payload, seen):
    webhook = {"namespace": ATTACKER_NS, "name": name, "path": "in", "method": "POST",
               "connection": _ref("sink"), "body_template": source}  # fmt: skip
    _post(stage, "/api/v2/setup/webhook/", webhook, seen)
    return _algorithm(stage, f"return api.submit({name!r})", name, payload.time_limit, seen)


_RUNS = {
    "algorithm": _run_algorithm,
    "template": _run_template,
    "mapping": _run_mapping,
    "webhook_body": _run_webhook_body,
}
