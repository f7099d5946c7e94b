"""The connector spec (DESIGN §7): its JSON Schema, its checks and its defaults.

A spec is what the wizard's pages, ``manage.py create_connector SPEC.json`` and
``POST /api/v2/connector_factory/connector/`` all take. :func:`spec_problems`
lists everything wrong with one, each message prefixed by where it is
(``resources[1].import.pagination.size_param is required for page_number``):
first what the JSON Schema says, then what a schema cannot say (the options of
the chosen pagination type, URLs, JMESPath expressions, names that collide).
:func:`spec_normalize` fills the defaults the generator relies on.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jmespath
from jsonschema import Draft202012Validator

from apps.gateway.pagination import DEFAULTS as PAGINATION_DEFAULTS
from apps.gateway.pagination import OPTIONS as PAGINATION_OPTIONS
from apps.gateway.pagination import pagination_check
from coderunner.translation.functions import ExpressionTooBig, compile_jmespath

if TYPE_CHECKING:
    from .models import Connector

SCHEMA_PATH = Path(__file__).parent / "schema" / "connector.schema.json"
SPEC_SCHEMA: dict = json.loads(SCHEMA_PATH.read_text())
_VALIDATOR = Draft202012Validator(SPEC_SCHEMA)

AUTH_TYPES: dict[str, list[str]] = {
    "none": [],
    "basic": ["username", "password"],
    "bearer": ["token"],
    "api_key": ["key_name", "key_value", "key_in"],
    "oauth2": ["grant_type", "authorization_endpoint", "token_endpoint", "client_id",
               "client_secret", "scopes", "header_prefix"],
}  # fmt: skip
SECRET_FIELDS: dict[str, list[str]] = {
    "basic": ["password"],
    "bearer": ["token"],
    "api_key": ["key_value"],
    "oauth2": ["client_secret"],
}
# Fields each authorization type cannot do without (the others have defaults).
AUTH_REQUIRED: dict[str, list[str]] = {
    "basic": ["username", "password"],
    "bearer": ["token"],
    "api_key": ["key_name", "key_value"],
    "oauth2": ["token_endpoint", "client_id", "client_secret"],
}
PAGINATION_TYPES: dict[str, list[str]] = {
    kind: list(options) for kind, options in PAGINATION_OPTIONS.items()
}
# Options a spec must give for a type (the gateway has defaults for the others).
PAGINATION_REQUIRED: dict[str, list[str]] = {"page_number": ["size_param", "size"]}
BODY_SHAPES = ["raw", "wrapped", "template"]
PROCESSES = ["import", "export"]
DEFAULT_ID_PATHS = ["id", "data[0].id", "data[0].details.id"]
CRON_FIELDS = 5
WIZARD_PAGES = {"add"}  # /admin/connector-factory/add/ is the wizard, not a connector


class SpecError(ValueError):
    """A spec that cannot be generated; ``problems`` lists every problem by path."""

    code = "invalid_spec"

    def __init__(self, problems: list[str]) -> None:
        # Problems are sentences: joined without doubling their full stops (".;").
        super().__init__("; ".join(problem.rstrip(".") for problem in problems) + ".")
        self.problems = problems


# --- paths and messages ----------------------------------------------------------------


def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _schema_message(error) -> str:
    path = _path(error.absolute_path)
    validator = error.validator
    if validator == "required":
        missing = re.match(r"'([^']+)'", error.message)
        return f"{_join(path, missing.group(1) if missing else '?')} is required"
    if validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        known = ", ".join(sorted(error.schema.get("properties", {})))
        return f"{_join(path, ', '.join(extra))}: not a field here (fields: {known})"
    where = path or "spec"
    if validator == "enum":
        choices = ", ".join(str(choice) for choice in error.validator_value)
        return f"{where} must be one of {choices}, not {error.instance!r}"
    if validator == "pattern":
        return (
            f"{where} must be a lowercase identifier (a letter, then letters, digits or '_'), "
            f"not {error.instance!r}"
        )
    if validator == "type":
        return f"{where} must be {_a(error.validator_value)}, not {type(error.instance).__name__}"
    if validator == "minItems":
        return f"{where} needs at least {error.validator_value} item(s)"
    if validator == "uniqueItems":
        return f"{where} lists an item twice"
    if validator in {"minLength", "maxLength"}:
        what = "at least" if validator == "minLength" else "at most"
        return f"{where} must be {what} {error.validator_value} character(s) long"
    return f"{where}: {error.message}"


def _a(kind: Any) -> str:
    names = {"object": "an object", "array": "a list", "string": "a string",
             "integer": "an integer", "boolean": "true or false", "number": "a number"}  # fmt: skip
    return names.get(str(kind), f"of type {kind}")


# --- the checks ------------------------------------------------------------------------


def spec_problems(spec: Any, *, existing: Connector | None = None) -> list[str]:
    """Every problem, each prefixed by its path, e.g.
    'resources[1].import.pagination.size_param is required for page_number'. [] when valid.
    With ``existing``, secret fields left empty mean 'keep the stored secret'."""
    if not isinstance(spec, dict):
        return [f"spec must be a JSON object, not {type(spec).__name__}"]
    errors = sorted(_VALIDATOR.iter_errors(spec), key=lambda e: list(e.absolute_path))
    problems = [_schema_message(error) for error in errors]
    # The checks below read a section only when it has the right shape. A problem of the
    # whole spec breaks no section when it is an unknown key, only the missing one when a
    # section is missing: the other sections' problems are listed at once all the same.
    broken: list[tuple] = []
    for error in errors:
        path = tuple(error.absolute_path)
        if path == () and error.validator == "additionalProperties":
            continue
        if path == () and error.validator == "required":
            broken += [(name,) for name in error.validator_value if name not in spec]
            continue
        broken.append(path)

    def fine(*section, exact: bool = False) -> bool:
        if () in broken:
            return False
        if exact:
            return section not in broken
        return not any(path[: len(section)] == section for path in broken)

    if fine("name"):
        problems += _name_problems(spec, existing)
    if fine("authorization"):
        problems += _authorization_problems(spec.get("authorization") or {"type": "none"}, existing)
    if fine("connection"):
        problems += _url_problems("connection.base_url", spec["connection"]["base_url"])
    if fine("resources", exact=True):
        for index, resource in enumerate(spec["resources"]):
            if fine("resources", index):
                problems += _resource_problems(f"resources[{index}]", resource)
    if not errors:
        problems += _collision_problems(spec)
    return problems


def spec_check(spec: Any, *, existing: Connector | None = None) -> dict:
    """The normalized spec, or SpecError listing every problem."""
    problems = spec_problems(spec, existing=existing)
    if problems:
        raise SpecError(problems)
    return spec_normalize(spec)


def _name_problems(spec: dict, existing: Connector | None) -> list[str]:
    from apps.data.models import RESERVED_NAMESPACES

    name = spec["name"]
    if name in RESERVED_NAMESPACES:
        return [f"name {name!r} is reserved for the API's own paths; choose another name"]
    if name in WIZARD_PAGES:
        return [f"name {name!r} is the name of a page of the wizard; choose another name"]
    if existing is not None and existing.name != name:
        return [f"name: a connector is not renamed (it is {existing.name!r})"]
    return []


def _authorization_problems(auth: dict, existing: Connector | None) -> list[str]:
    kind = auth.get("type", "none")
    problems = []
    for field in sorted(set(auth) - {"type", *AUTH_TYPES[kind]}):
        problems.append(
            f"authorization.{field}: not a field of type {kind} "
            f"(its fields: {', '.join(AUTH_TYPES[kind]) or 'none'})"
        )
    stored_kind = ((existing.spec.get("authorization") or {}).get("type")) if existing else None
    for field in AUTH_REQUIRED.get(kind, []):
        if str(auth.get(field) or "").strip():
            continue
        if field in SECRET_FIELDS.get(kind, []) and stored_kind == kind:
            continue  # left empty on an edit: the stored secret stays
        problems.append(f"authorization.{field} is required for {kind}")
    if kind == "oauth2":
        grant = auth.get("grant_type", "client_credentials")
        if grant == "authorization_code" and not auth.get("authorization_endpoint"):
            problems.append(
                "authorization.authorization_endpoint is required for the authorization_code grant"
            )
        for field in ("token_endpoint", "authorization_endpoint"):
            if auth.get(field):
                problems += _url_problems(f"authorization.{field}", auth[field])
    return problems


def _url_problems(path: str, value: str) -> list[str]:
    try:
        parts = urlsplit(value)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        return [
            f"{path}: {value!r} is not an http(s) URL; write it like 'https://api.example.com/v2'"
        ]
    return []


def _request_problems(path: str, request: dict | None, needed: bool, what: str) -> list[str]:
    if request is None:
        return [f"{path} is required for {what}"] if needed else []
    value = request["path"]
    if value.startswith("/") or value.endswith("/") or "://" in value:
        return [
            f"{path}.path: {value!r} must be relative to the base URL, without a leading or "
            "trailing '/', e.g. 'contacts/{{remote_id}}'"
        ]
    if value.count("{{") != value.count("}}"):
        return [f"{path}.path: {value!r} has an unclosed {{{{placeholder}}}}"]
    return []


def _jmespath_problems(path: str, value: str | None) -> list[str]:
    if not value:
        return []
    try:
        compile_jmespath(value)
    except (jmespath.exceptions.JMESPathError, ExpressionTooBig) as error:
        reason = " ".join(str(error).split())
        return [f"{path}: {value!r} is not a valid JMESPath expression ({reason})"]
    return []


def _pagination_problems(path: str, pagination: dict | None) -> list[str]:
    if not pagination:
        return []
    problems = []
    kind = pagination["type"]
    for option in PAGINATION_REQUIRED.get(kind, []):
        if option not in pagination:
            problems.append(f"{path}.{option} is required for {kind}")
    for message in pagination_check(pagination):
        named = re.match(r"'(\w+)'\s*(.*)", message)
        if named and named.group(1) in {*PAGINATION_TYPES[kind], "max_pages"}:
            option, rest = named.groups()
            if option in PAGINATION_REQUIRED.get(kind, []) and f"{path}.{option}" in str(problems):
                continue
            problems.append(f"{path}.{option} {rest.rstrip('.')}")
        elif named:
            problems.append(f"{path}.{named.group(1)} {named.group(2).rstrip('.')}")
        else:
            problems.append(f"{path}: {message.rstrip('.')}")
    return problems


def _resource_problems(path: str, resource: dict) -> list[str]:
    problems = []
    processes = resource["processes"]
    imports = resource.get("import") or {}
    exports = resource.get("export") or {}
    if "import" in processes:
        problems += _request_problems(f"{path}.import.get_one", imports.get("get_one"), True,
                                      "the import process")  # fmt: skip
        problems += _request_problems(f"{path}.import.get_many", imports.get("get_many"), True,
                                      "the import process")  # fmt: skip
        problems += _jmespath_problems(f"{path}.import.records_path", imports.get("records_path"))
        problems += _pagination_problems(f"{path}.import.pagination", imports.get("pagination"))
        if imports.get("schedule"):
            problems += _schedule_problems(f"{path}.import.schedule", imports["schedule"])
    if "export" in processes:
        problems += _request_problems(f"{path}.export.create", exports.get("create"), True,
                                      "the export process")  # fmt: skip
        problems += _request_problems(f"{path}.export.update", exports.get("update"), True,
                                      "the export process")  # fmt: skip
        problems += _jmespath_problems(f"{path}.export.id_path", exports.get("id_path"))
        shape = exports.get("body_shape", "raw")
        if shape == "template" and not str(exports.get("body_template") or "").strip():
            problems.append(f"{path}.export.body_template is required for body_shape template")
    return problems


def _schedule_problems(path: str, schedule: str) -> list[str]:
    from django.core.exceptions import ValidationError

    from apps.workflows.engine.schedules import parse_expression

    try:
        parse_expression(schedule_expression(schedule))
    except ValidationError as error:
        messages = error.message_dict.get("expression", error.messages)
        return [f"{path}: {' '.join(messages)}"]
    return []


def schedule_expression(schedule: str) -> str:
    """A scheduler expression: 'every 15m' as it is, a bare 5-field cron as 'cron …'."""
    text = " ".join(str(schedule).split())
    if text and not text.lower().startswith(("every", "cron")) and len(text.split()) == CRON_FIELDS:
        return f"cron {text}"
    return text


def _collision_problems(spec: dict) -> list[str]:
    """Names of resources, plurals and the elements they make must not collide."""
    from .generator import resource_plan

    problems: list[str] = []
    owners: dict[tuple[str, str], int] = {}
    titles: dict[str, int] = {}
    for index, resource in enumerate(spec_normalize(spec)["resources"]):
        where = f"resources[{index}]"
        title = data_type_name(resource["name"])
        if title in titles:
            problems.append(
                f"{where}.name: {resource['name']!r} is the name of resources[{titles[title]}]"
            )
            continue
        titles[title] = index
        if resource["plural"] == resource["name"]:
            problems.append(f"{where}.plural must differ from the name ({resource['name']!r})")
            continue
        for element in resource_plan(resource):
            other = owners.setdefault(element, index)
            if other != index:
                problems.append(
                    f"{where}.plural: {resource['plural']!r} makes the element {element[1]} that "
                    f"resources[{other}] makes too; choose another name or plural"
                )
                break
    return problems


# --- defaults --------------------------------------------------------------------------


def data_type_name(resource_name: str) -> str:
    """The data type of a resource: 'contact' → 'Contact', 'sales_order' → 'SalesOrder'."""
    return "".join(part[:1].upper() + part[1:] for part in resource_name.split("_") if part)


def spec_normalize(spec: dict) -> dict:
    """A copy of a (valid) spec with every default filled in, in a stable shape."""
    spec = copy.deepcopy(spec)
    auth = spec.get("authorization") or {"type": "none"}
    kind = auth.get("type", "none")
    defaults: dict[str, dict[str, Any]] = {
        "api_key": {"key_in": "header"},
        "oauth2": {"grant_type": "client_credentials", "scopes": "", "header_prefix": "Bearer",
                   "authorization_endpoint": ""},
    }  # fmt: skip
    auth = {
        "type": kind,
        **defaults.get(kind, {}),
        **{k: v for k, v in auth.items() if v is not None},
    }
    spec["authorization"] = auth
    connection = spec.setdefault("connection", {})
    connection.setdefault("parameters", {})
    connection.setdefault("headers", {})
    spec.setdefault("title", "")
    for resource in spec.get("resources", []):
        resource.setdefault("plural", f"{resource['name']}s")
        resource.setdefault("primary_key", "id")
        processes = resource.get("processes", [])
        resource["processes"] = [p for p in PROCESSES if p in processes]
        if "import" in processes:
            imports = resource.setdefault("import", {})
            for part in ("get_one", "get_many"):
                if part in imports:
                    imports[part] = {"method": "GET", **imports[part]}
            imports.setdefault("records_path", "")
            pagination = imports.get("pagination") or {"type": "none"}
            imports["pagination"] = {
                **PAGINATION_DEFAULTS.get(pagination["type"], {}),
                **pagination,
            }
            imports.setdefault("schedule", "")
            imports["schedule"] = schedule_expression(imports["schedule"])
        if "export" in processes:
            exports = resource.setdefault("export", {})
            for part, method in (("create", "POST"), ("update", "PUT")):
                if part in exports:
                    exports[part] = {"method": method, **exports[part]}
            exports.setdefault("body_shape", "raw")
            if exports["body_shape"] == "wrapped":
                exports.setdefault("wrap_key", "data")
            exports.setdefault("id_path", "")
    return spec


def spec_without_secrets(spec: dict) -> dict:
    """The spec as stored and shown: every secret field empty."""
    spec = copy.deepcopy(spec)
    auth = spec.get("authorization") or {}
    for field in SECRET_FIELDS.get(auth.get("type", "none"), []):
        if field in auth:
            auth[field] = ""
    return spec
