"""The wizard's steps as a spec and back, and the spec's problems back to their step.

:func:`resource_spec` turns a resource form's data into a resource of the spec
(DESIGN §7), :func:`initial_from_spec` a stored spec into the steps' initial
data (editing), :func:`masked` the spec into what the review page may show, and
:func:`problem_place` a problem of ``spec_problems`` ("resources[0].import.
pagination.size is required for page_number") into the step and field it is
about.
"""

from __future__ import annotations

import json
import re
from typing import Any

from apps.security.redaction import REDACTED, is_secret_name

from .forms import pagination_field
from .spec import PAGINATION_TYPES, SECRET_FIELDS

# --- the spec from the steps and back -------------------------------------------------


def resource_spec(data: dict[str, Any]) -> dict[str, Any]:
    """A resource of the spec from the cleaned data of a ResourceForm."""
    processes = [p for p in ("import", "export") if p in (data.get("processes") or [])]
    resource: dict[str, Any] = {
        "name": data["name"],
        "primary_key": data.get("primary_key") or "id",
        "processes": processes,
    }
    if data.get("plural"):
        resource["plural"] = data["plural"]
    if "import" in processes:
        imported: dict[str, Any] = {}
        for call in ("get_one", "get_many"):
            if data.get(f"{call}_path"):
                imported[call] = {"method": data[f"{call}_method"], "path": data[f"{call}_path"]}
        if data.get("records_path"):
            imported["records_path"] = data["records_path"]
        kind = data.get("pagination_type") or "none"
        pagination: dict[str, Any] = {"type": kind}
        for option in PAGINATION_TYPES.get(kind, []):
            value = data.get(pagination_field(kind, option))
            if value not in (None, ""):
                pagination[option] = value
        imported["pagination"] = pagination
        if data.get("schedule"):
            imported["schedule"] = data["schedule"]
        if data.get("incremental_param") or data.get("incremental_cursor_field"):
            imported["incremental"] = {
                "param": data.get("incremental_param", ""),
                "cursor_field": data.get("incremental_cursor_field", ""),
            }
        resource["import"] = imported
    if "export" in processes:
        exported: dict[str, Any] = {}
        for call in ("create", "update"):
            if data.get(f"{call}_path"):
                exported[call] = {"method": data[f"{call}_method"], "path": data[f"{call}_path"]}
        shape = data.get("body_shape") or "raw"
        exported["body_shape"] = shape
        if shape == "wrapped":
            exported["wrap_key"] = data.get("wrap_key", "")
        if shape == "template":
            exported["body_template"] = data.get("body_template", "")
        if data.get("id_path"):
            exported["id_path"] = data["id_path"]
        resource["export"] = exported
    return resource


def resource_initial(resource: dict[str, Any]) -> dict[str, Any]:
    """The initial data of a ResourceForm from a resource of the spec (inverse of the above)."""
    imported, exported = resource.get("import") or {}, resource.get("export") or {}
    pagination = imported.get("pagination") or {"type": "none"}
    initial: dict[str, Any] = {
        "name": resource.get("name", ""),
        "plural": resource.get("plural", ""),
        "primary_key": resource.get("primary_key", "id"),
        "processes": resource.get("processes", []),
        "records_path": imported.get("records_path", ""),
        "pagination_type": pagination.get("type", "none"),
        "pagination_shown": pagination.get("type", "none"),
        "schedule": imported.get("schedule", ""),
        "incremental_param": (imported.get("incremental") or {}).get("param", ""),
        "incremental_cursor_field": (imported.get("incremental") or {}).get("cursor_field", ""),
        "body_shape": exported.get("body_shape", "raw"),
        "wrap_key": exported.get("wrap_key", ""),
        "body_template": exported.get("body_template", ""),
        "id_path": exported.get("id_path", ""),
    }
    calls = [("get_one", imported), ("get_many", imported), ("create", exported)]
    for call, section in [*calls, ("update", exported)]:
        if section.get(call):
            initial[f"{call}_method"] = section[call].get("method")
            initial[f"{call}_path"] = section[call].get("path", "")
    kind = pagination.get("type", "none")
    for option in PAGINATION_TYPES.get(kind, []):
        if option in pagination:
            initial[pagination_field(kind, option)] = pagination[option]
    return initial


def initial_from_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The initial data of every step from a stored spec (editing a connector)."""
    authorization = dict(spec.get("authorization") or {"type": "none"})
    auth_type = authorization.pop("type", "none")
    for secret in SECRET_FIELDS.get(auth_type, []):
        authorization.pop(secret, None)  # never rendered
    connection = spec.get("connection") or {}
    return {
        "name": {"name": spec.get("name", ""), "title": spec.get("title", "")},
        "auth_type": {"type": auth_type},
        "auth": authorization,
        "connection": {
            "base_url": connection.get("base_url", ""),
            "parameters": connection.get("parameters") or {},
            "headers": connection.get("headers") or {},
        },
        "resources": [resource_initial(r) for r in spec.get("resources") or []],
    }


def masked(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as the review page shows it: no secret value."""
    shown = json.loads(json.dumps(spec))
    authorization = shown.get("authorization") or {}
    for name in SECRET_FIELDS.get(authorization.get("type", ""), []):
        if name in authorization:
            authorization[name] = REDACTED if authorization[name] else "(kept)"
    for key in ("parameters", "headers"):
        pairs = (shown.get("connection") or {}).get(key) or {}
        for name in pairs:
            if is_secret_name(name) and pairs[name]:
                pairs[name] = REDACTED
    return shown


# --- spec problems back to their step and field ------------------------------------------

_PROBLEM = re.compile(r"^(?P<path>[A-Za-z_][\w]*(?:\[\d+\]|\.[A-Za-z_]\w*)*):?\s+(?P<text>.+)$")
_RESOURCE = re.compile(r"^resources\[(?P<index>\d+)\](?:\.(?P<rest>.+))?$")
RESOURCE_FIELDS = {
    "name": "name",
    "plural": "plural",
    "primary_key": "primary_key",
    "processes": "processes",
    "import.get_one.method": "get_one_method",
    "import.get_one": "get_one_path",
    "import.get_many.method": "get_many_method",
    "import.get_many": "get_many_path",
    "import.records_path": "records_path",
    "import.pagination.type": "pagination_type",
    "import.pagination": "pagination_type",
    "import.schedule": "schedule",
    "import.incremental.cursor_field": "incremental_cursor_field",
    "import.incremental": "incremental_param",
    "import": "get_many_path",
    "export.create.method": "create_method",
    "export.create": "create_path",
    "export.update.method": "update_method",
    "export.update": "update_path",
    "export.wrap_key": "wrap_key",
    "export.body_template": "body_template",
    "export.body_shape": "body_shape",
    "export.id_path": "id_path",
    "export": "create_path",
}


def problem_place(problem: str, pagination_types: list[str] | None = None):
    """(step, resource index or None, field or None) of a spec problem; None: the review."""
    match = _PROBLEM.match(problem)
    if not match:
        return None
    path = match["path"]
    head = path.split(".")[0].split("[")[0]
    if head in ("name", "title"):
        return ("name", None, head)
    if path == "authorization.type":
        return ("auth_type", None, "type")
    if head == "authorization":
        field = path.split(".", 1)[1] if "." in path else None
        return ("auth", None, field)
    if head == "connection":
        field = path.split(".")[1] if "." in path else None
        return ("connection", None, "base_url" if field == "base_url" else None)
    if head == "resources":
        resource = _RESOURCE.match(path)
        if not resource:
            return ("resources", None, None)
        index, rest = int(resource["index"]), resource["rest"] or ""
        if rest.startswith("import.pagination.") and rest.count(".") == 2:
            option = rest.rsplit(".", 1)[1]
            kinds = pagination_types or []
            if option != "type" and index < len(kinds):
                return ("resources", index, pagination_field(kinds[index], option))
        for prefix, field in RESOURCE_FIELDS.items():
            if rest == prefix or rest.startswith(prefix + ".") or rest.startswith(prefix + "["):
                return ("resources", index, field)
        return ("resources", index, None)
    return None
