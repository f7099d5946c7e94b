"""Writing a connector's elements: create, update in place, remove what no longer belongs.

Every element is written through its app's own service (validated as on any
other save: algorithms compiled in a runner, schedulers synced with beat), and
only when something differs, so that generating the same spec twice writes
nothing. An algorithm whose code is not what the generator last wrote was
edited by a user: it is kept as it is, and reported.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction

from apps.data import permissions
from apps.data.models import DataType, Namespace
from apps.data.services import data_type_save
from apps.gateway.models import Connection, Webhook
from apps.gateway.services import connection_save, webhook_save
from apps.security.models import Authorization, AuthorizationClient, AuthorizationProvider
from apps.security.services import (
    authorization_client_save,
    authorization_provider_save,
    authorization_save,
)
from apps.workflows.models import Algorithm, Flow, Observer, Scheduler
from apps.workflows.services import element_save

from . import codegen
from .generator import GenerateResult, connector_plan
from .models import Connector
from .spec import SpecError, data_type_name, spec_check, spec_without_secrets

MODELS: dict[str, type[models.Model]] = {
    "authorization_provider": AuthorizationProvider,
    "authorization_client": AuthorizationClient,
    "authorization": Authorization,
    "connection": Connection,
    "data_type": DataType,
    "webhook": Webhook,
    "algorithm": Algorithm,
    "observer": Observer,
    "scheduler": Scheduler,
    "flow": Flow,
}
# Removal order: what refers to others goes first.
REMOVAL_ORDER = [
    "flow", "scheduler", "observer", "algorithm", "webhook", "connection",
    "authorization", "authorization_client", "authorization_provider", "data_type",
]  # fmt: skip


def digest(code: str) -> str:
    return hashlib.sha256(code.replace("\r\n", "\n").encode()).hexdigest()


def data_type_schema() -> dict:
    """The schema of every connector data type (seed 004)."""
    return {
        "type": "object",
        "properties": {
            "remote_id": {"type": "string"},
            "hmac": {"type": "string"},
            "last_source": {"type": "string"},
            "imported_at": {"type": "string", "format": "date-time"},
            "raw_data": {"type": "object"},
        },
        "required": ["remote_id"],
    }


def _namespace_for(name: str, actor) -> Namespace:
    namespace = Namespace.objects.filter(name=name).first()
    if namespace is not None:
        if actor is not None and not permissions.can_change(actor, namespace):
            raise PermissionDenied(
                f"You may not change namespace {name!r}: a connector named {name!r} is "
                "generated there."
            )
        return namespace
    if not (actor is None or actor.is_superuser or actor.has_perm("data.add_namespace")):
        raise PermissionDenied(
            f"You may not create namespace {name!r} for the connector: ask for the "
            "permission to add namespaces, or for a namespace of that name."
        )
    namespace = Namespace(name=name, title=name)
    namespace.full_clean()
    namespace.save()
    if actor is not None and not actor.is_superuser:
        permissions.grant(actor, namespace, change=True)
    return namespace


def _same(instance: models.Model, fields: dict[str, Any]) -> bool:
    for name, value in fields.items():
        current = getattr(instance, name)
        if isinstance(current, models.Model) or isinstance(value, models.Model):
            if getattr(current, "pk", None) != getattr(value, "pk", None):
                return False
        elif current != value:
            return False
    return True


class Writer:
    """One generation: writes the elements of a normalized spec and tallies what changed."""

    def __init__(self, connector: Connector, namespace: Namespace, spec: dict, actor) -> None:
        self.connector, self.namespace, self.spec, self.actor = connector, namespace, spec, actor
        self.result = GenerateResult(
            connector=connector, namespace=namespace.name, elements=connector_plan(spec)
        )
        self.digests: dict[str, str] = dict(connector.generated or {})
        self.written: dict[tuple[str, str], models.Model] = {}

    def put(self, kind: str, name: str, save, /, **fields: Any) -> models.Model:
        """Create or update one element through ``save`` (its service), if it differs."""
        model = MODELS[kind]
        instance = model._default_manager.filter(namespace=self.namespace, name=name).first()
        secrets = {k: v for k, v in fields.items() if k in _secret_names(model)}
        plain = {k: v for k, v in fields.items() if k not in secrets}
        unchanged = instance is not None and _same(instance, plain)
        if unchanged and all(v is None or getattr(instance, k) == v for k, v in secrets.items()):
            self.written[(kind, name)] = instance  # type: ignore[assignment]
            return instance  # type: ignore[return-value]
        try:
            element = save(
                namespace=self.namespace, name=name, instance=instance, actor=self.actor, **fields
            )
        except ValidationError as error:
            raise SpecError([f"{kind} {name}: {message}" for message in _messages(error)]) from None
        (self.result.updated if instance is not None else self.result.created).append(name)
        self.written[(kind, name)] = element
        return element

    def algorithm(self, name: str, code: codegen.Code) -> Algorithm:
        parameters, text, description = code
        instance = Algorithm.objects.filter(namespace=self.namespace, name=name).first()
        if instance is not None and instance.code != text:
            last = self.digests.get(name)
            if digest(instance.code) != last:  # not what the generator wrote: a user's edit
                self.result.kept.append(name)
                self.written[("algorithm", name)] = instance
                return instance
        element = self.put(
            "algorithm", name, _workflows(Algorithm),
            parameters=parameters, code=text, description=description,
        )  # fmt: skip
        self.digests[name] = digest(text)
        return element  # type: ignore[return-value]


def _secret_names(model) -> set[str]:
    from apps.security.fields import EncryptedTextField

    return {f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)}


def _messages(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items()]
    return list(error.messages)


def _workflows(model):
    def save(**kwargs):
        return element_save(model=model, **kwargs)

    return save


def _data_type(*, namespace, name, instance, actor=None, **fields):
    return data_type_save(namespace=namespace, name=name, instance=instance, **fields)


def _secret(value: Any) -> Any:
    """A secret left empty keeps the stored one (None tells the services so)."""
    return value if value not in (None, "") else None


# --- the elements ----------------------------------------------------------------------


def _write_security(writer: Writer) -> Authorization:
    auth = writer.spec["authorization"]
    kind = auth["type"]
    fields: dict[str, Any] = {"kind": kind, "client": None}
    if kind == "basic":
        fields.update(username=auth["username"], password=_secret(auth.get("password")))
    elif kind == "bearer":
        fields.update(token=_secret(auth.get("token")))
    elif kind == "api_key":
        fields.update(
            key_name=auth["key_name"], key_value=_secret(auth.get("key_value")),
            key_in=auth.get("key_in", "header"),
        )  # fmt: skip
    elif kind == "oauth2":
        provider = writer.put(
            "authorization_provider", "default_provider", authorization_provider_save,
            token_url=auth["token_endpoint"], authorize_url=auth.get("authorization_endpoint", ""),
        )  # fmt: skip
        client = writer.put(
            "authorization_client", "default_client", authorization_client_save,
            provider=provider, client_id=auth["client_id"],
            client_secret=_secret(auth.get("client_secret")),
        )  # fmt: skip
        fields.update(
            client=client, grant_type=auth.get("grant_type", "client_credentials"),
            scopes=auth.get("scopes", ""), header_prefix=auth.get("header_prefix") or "Bearer",
        )  # fmt: skip
    return writer.put("authorization", "default_authorization", authorization_save, **fields)  # type: ignore[return-value]


def _write_resource(writer: Writer, resource: dict, connection: Connection) -> None:
    rn, rns = resource["name"], resource["plural"]
    processes = resource["processes"]
    data_type = writer.put(
        "data_type", data_type_name(rn), _data_type,
        schema=data_type_schema(), primary_key="remote_id", title=data_type_name(rn),
        # a record posted without remote_id is one to create remotely (seed 004)
        new_key_prefix=f"{codegen.PENDING}-" if "export" in processes else "",
    )  # fmt: skip
    if "import" in processes:
        imports = resource["import"]
        writer.put(
            "webhook", f"get_{rn}", webhook_save, path=imports["get_one"]["path"],
            method=imports["get_one"]["method"], records_path="@", pagination={},
            connection=connection, body_template="",
        )  # fmt: skip
        writer.put(
            "webhook", f"get_{rns}", webhook_save, path=imports["get_many"]["path"],
            method=imports["get_many"]["method"], records_path=imports["records_path"],
            pagination=imports["pagination"], connection=connection, body_template="",
        )  # fmt: skip
    if "export" in processes:
        exports = resource["export"]
        template = exports.get("body_template", "") if exports["body_shape"] == "template" else ""
        # A template renders text: say it is JSON, as the other shapes' bodies are.
        headers = {"Content-Type": "application/json"} if template else {}
        for part, name in (("create", f"create_{rn}"), ("update", f"update_{rn}")):
            writer.put(
                "webhook", name, webhook_save, path=exports[part]["path"],
                method=exports[part]["method"], records_path="", pagination={},
                connection=connection, body_template=template, headers=headers,
            )  # fmt: skip
    algorithms = {
        name: writer.algorithm(name, code)
        for name, code in codegen.resource_algorithms(resource).items()
    }
    if "import" in processes:
        schedule = resource["import"].get("schedule")
        scheduler = None
        if schedule:
            scheduler = writer.put(
                "scheduler", f"schedule_import_{rns}", _workflows(Scheduler),
                expression=schedule, active=True,
                description=f"Imports the {rns} {schedule}.",
            )  # fmt: skip
        writer.put(
            "flow", f"import_{rns}", _workflows(Flow),
            algorithm=algorithms[f"do_import_{rns}"], translator=None, event=scheduler,
            data_type=None, active=True, auto_retry=True, max_attempts=3,
            description=f"Imports every {rn} (on demand" + (", and on schedule)." if schedule
                                                           else ")."),
        )  # fmt: skip
    if "export" in processes:
        observer = writer.put(
            "observer", f"handle_{rn}", _workflows(Observer),
            data_type=data_type, on_created=True, on_updated=True,
            conditions=[{"field": "last_source", "op": "is_not", "value": codegen.FROM_API}],
            trigger_evaluator=algorithms[f"trigger_for_change_{rn}"], active=True,
            description=f"A {rn} changed by anything but an import is exported.",
        )  # fmt: skip
        writer.put(
            "flow", f"export_{rn}", _workflows(Flow),
            algorithm=algorithms[f"do_export_{rn}"], translator=None, event=observer,
            data_type=data_type, scope=Flow.Scope.EVENT_SOURCE, lot_size=50,
            discard_events=True, active=True, auto_retry=False, max_attempts=1,
            description=f"Exports each changed {rn} (create or update).",
        )  # fmt: skip


def existing_elements(connector: Connector) -> list[tuple[str, models.Model]]:
    """The connector's elements that exist, in the plan's order."""
    found = []
    for kind, name in connector_plan(connector.spec):
        element = (
            MODELS[kind]._default_manager.filter(namespace=connector.namespace, name=name).first()
        )
        if element is not None:
            found.append((kind, element))
    return found


def _remove(namespace: Namespace, elements: list[tuple[str, str]], *, keep_data_types: bool):
    """Delete elements (dependents first); data types only without ``keep_data_types``."""
    removed, kept = [], []
    for kind in REMOVAL_ORDER:
        for element_kind, name in elements:
            if element_kind != kind:
                continue
            if kind == "data_type" and keep_data_types:
                kept.append(name)
                continue
            deleted, _ = (
                MODELS[kind]._default_manager.filter(namespace=namespace, name=name).delete()
            )
            if deleted:
                removed.append(name)
    return removed, kept


def remove_elements(connector: Connector, *, keep_data_types: bool) -> None:
    _remove(connector.namespace, connector_plan(connector.spec), keep_data_types=keep_data_types)


def generate(*, spec: dict, actor, drop_records: bool = False) -> GenerateResult:
    """The body of :func:`apps.connector_factory.generator.connector_generate`."""
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        spec_check(spec)  # raises, naming what is wrong
    existing = Connector.objects.filter(namespace__name=spec["name"]).first()
    spec = spec_check(spec, existing=existing)
    with transaction.atomic():
        namespace = _namespace_for(spec["name"], actor)
        connector = existing or Connector(namespace=namespace, created_by=actor)
        previous = connector_plan(connector.spec) if connector.pk else []
        writer = Writer(connector, namespace, spec, actor)
        authorization = _write_security(writer)
        connection = writer.put(
            "connection", "default_connection", connection_save,
            base_url=spec["connection"]["base_url"], parameters=spec["connection"]["parameters"],
            headers=spec["connection"]["headers"], authorization=authorization,
        )  # fmt: skip
        for resource in spec["resources"]:
            _write_resource(writer, resource, connection)  # type: ignore[arg-type]
        for name, code in codegen.shared_algorithms().items():
            writer.algorithm(name, code)
        wanted = set(writer.result.elements)
        gone = [element for element in previous if element not in wanted]
        removed, records_kept = _remove(namespace, gone, keep_data_types=not drop_records)
        writer.result.removed = removed
        for name in list(writer.digests):
            if ("algorithm", name) not in wanted:
                del writer.digests[name]
        stored = spec_without_secrets(spec)
        changed = (
            writer.result.created or writer.result.updated or removed
            or stored != connector.spec or writer.digests != connector.generated
        )  # fmt: skip
        connector.spec, connector.generated = stored, writer.digests
        if changed or connector.pk is None:
            connector.save()
        _write_collection(writer, connector, records_kept)
        writer.result.records_kept = records_kept
    return writer.result


def _write_collection(writer: Writer, connector: Connector, records_kept: list[str]) -> None:
    from apps.collections.models import Collection
    from apps.collections.services import collection_build

    elements = [writer.written[key] for key in writer.result.elements if key in writer.written]
    collection = connector.collection
    current = set()
    if collection is not None:
        current = {(m.kind, m.object_id) for m in collection.members.all()}
    from apps.collections.selectors import closure

    wanted = set(closure(elements))
    if collection is not None and current == wanted:
        return
    collection_build(
        name=connector.name, elements=elements, title=connector.spec.get("title") or connector.name,
        description=f"Connector {connector.name}, generated by the Connector Factory.",
        user=writer.actor,
    )  # fmt: skip
    found = Collection.objects.get(name=connector.name)
    if connector.collection_id != found.pk:
        connector.collection = found
        connector.save(update_fields=["collection", "updated_at"])
