"""The installer: one run over a document, inside the caller's transaction.

Per element of the document it finds the installed element of the same
namespace and name, compares every field and creates it, updates it (the
changed fields) or leaves it alone, saving through the element's own service;
then it removes what the installed version held and the document does not,
stores the records, and writes the collection and its membership. Problems are
collected with their JSON paths; :mod:`.install` decides to commit or roll back.
"""

from __future__ import annotations

import json
from typing import Any, cast

import semver
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, router, transaction
from django.db.models.deletion import Collector, ProtectedError, RestrictedError

from apps.data import permissions
from apps.data.models import DataType, Namespace, Record
from apps.data.services import records_save
from apps.security.fields import EncryptedJSONField
from apps.workflows.engine.dispatcher import events_discarded

from .document import CollectionError, Problem, items, json_path, ref_of
from .kinds import (
    BY_NAME,
    KINDS,
    Kind,
    canonical,
    concrete_model,
    default_of,
    exported_value,
    field_shape,
    kind_of,
    kinds_of_model,
    table_of,
    target_kinds,
)
from .kinds import reference as reference_of
from .membership import members_write
from .models import Collection, CollectionElement
from .plan import CREATE, KEEP, REMOVE, UNCHANGED, UPDATE, Plan, RecordsStep, Secret, Step
from .selectors import elements_of, may

# In a dry run a missing secret is listed in the plan, and this stands in for it
# so that the element validates as it will with the real value.
STAND_IN = "(secret to be given)"
NO_KEY = "{} has no primary key: its records would be stored again by every install"
_KEEP = object()
_DEPENDENCY_FAILED = object()


def _decode(model_field: models.Field, value: Any) -> Any:
    """A given secret as the field holds it: JSON for encrypted JSON fields, else text."""
    if isinstance(model_field, EncryptedJSONField):
        return model_field.to_python(value)
    return value if isinstance(value, str) else json.dumps(value)


class Installer:
    """One run: :meth:`run` returns the plan; ``problems`` and ``forbidden`` say what failed."""

    def __init__(self, doc: dict, *, user, secrets: dict[str, Any], activate: bool) -> None:
        self.doc, self.user, self.given, self.activate = doc, user, secrets, activate
        self.problems: list[Problem] = []
        self.forbidden: list[Problem] = []  # what the user may not do
        self.saved: dict[tuple[str, str], models.Model] = {}  # (table, ref) -> element
        self.namespaces: dict[str, Namespace | None] = {}
        self.collection: Collection | None = None
        self.dry = True
        self.secret_state: dict[str, Secret] = {}
        self.created_namespaces: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    # --- the run ------------------------------------------------------------------

    def run(self, *, force: bool, dry: bool) -> Plan:
        self.dry = dry
        doc = self.doc
        installed = Collection.objects.filter(name=doc["name"]).first()
        version = doc["version"]
        if installed and semver.Version.parse(version) < installed.version and not force:
            raise CollectionError(
                [
                    Problem(
                        "$.version",
                        f"{version} is older than the installed {installed.name} "
                        f"{installed.version}; force the install to go back to it",
                    )
                ],
                code="older_version",
            )
        user = self.user
        if installed and user is not None and not may(user, installed, permissions.CHANGE):
            message = (
                f"collection {installed.name} is installed and holds elements you may not change"
            )
            raise CollectionError([Problem("$.name", message)], code="forbidden")
        plan = Plan(
            collection=doc["name"],
            version=version,
            installed_version=installed.version if installed else None,
            collection_action=CREATE,
        )
        self._check_given_secrets()
        for kind, index, item in items(doc):
            step = self._element(kind, index, item, plan)
            if step is not None:
                plan.steps.append(step)
        if installed is not None:
            plan.steps += self._removals(installed)
        plan.records = self._records()
        self.collection = self._collection(installed, plan)
        plan.secrets = sorted(self.secret_state.values(), key=lambda s: s.name)
        return plan

    def _check_given_secrets(self) -> None:
        listed = self.doc.get("secrets", {})
        for name in sorted(set(self.given) - set(listed)):
            known = ", ".join(sorted(listed)) or "none"
            self.problem("$.secrets", f"{name!r} is not a secret of this document (its: {known})")

    def _namespace(self, name: str, path: str) -> Namespace | None:
        if name in self.namespaces:
            return self.namespaces[name]
        namespace = Namespace.objects.filter(name=name).first()
        user = self.user
        if namespace is None:
            if user is None or user.has_perm("data.add_namespace"):
                namespace = Namespace(name=name)
                try:
                    namespace.full_clean()
                except ValidationError as error:
                    self.problem(path, f"namespace {name!r}: " + "; ".join(error.messages))
                    namespace = None
                else:
                    namespace.save()
                    if user is not None:
                        permissions.grant(user, namespace, change=True)
                    self.created_namespaces.append(name)
            else:
                message = f"there is no namespace {name!r} and you may not create one"
                self.forbidden.append(Problem(path, message))
        elif user is not None and not permissions.can_change(user, namespace):
            self.forbidden.append(Problem(path, f"you may not change namespace {name!r}"))
            namespace = None
        self.namespaces[name] = namespace
        return namespace

    # --- one element ----------------------------------------------------------------

    def _element(self, kind: Kind, index: int, item: dict, plan: Plan) -> Step | None:
        path = f"$.{kind.plural}[{index}]"
        ref = ref_of(item)
        namespace = self._namespace(item["namespace"], f"{path}.namespace")
        if namespace is None:
            return None
        existing = kind.objects.filter(namespace=namespace, name=item["name"]).first()
        if existing is None:
            clash = (
                concrete_model(kind.model)
                ._default_manager.filter(namespace=namespace, name=item["name"])
                .first()
            )
            if clash is not None:
                self.problem(f"{path}.name", f"{ref} is installed already, as another kind")
                return None
        values: dict[str, Any] = {}
        changes: list[str] = []
        for model_field in kind.fields:
            value = self._value(kind, path, item, model_field, existing)
            if value is _DEPENDENCY_FAILED:
                return None  # the element it refers to failed: that is the problem reported
            if value is _KEEP:
                values[model_field.name] = getattr(existing, model_field.name)
                continue
            values[model_field.name] = value
            if existing is not None and self._differs(model_field, item, value, existing):
                changes.append(model_field.name)
        action = CREATE if existing is None else UPDATE if changes else UNCHANGED
        element = existing
        if action != UNCHANGED:
            element = self._save(kind, path, ref, namespace, item["name"], existing, values)
        if element is None:
            return None  # its problems are reported
        self.saved[(table_of(kind), ref)] = element
        note = ""
        inactive = kind.activation and item.get(kind.activation, True) and not self.activate
        if inactive and action == CREATE:
            note = "arrives inactive; activate to start it"
        return Step(action, kind.name, ref, path, changes if action == UPDATE else [], note)

    def _value(self, kind: Kind, path: str, item: dict, model_field, existing) -> Any:
        name = model_field.name
        wanted = item[name] if name in item else default_of(model_field)
        shape = field_shape(model_field)
        if name == kind.activation and not self.activate:
            return _KEEP if existing is not None else False
        if shape in {"reference", "references"}:
            table = table_of(target_kinds(model_field)[0])
            refs = wanted if shape == "references" else [wanted] if wanted else []
            found = [self.saved.get((table, ref)) for ref in refs]
            if any(element is None for element in found):
                return _DEPENDENCY_FAILED
            return found if shape == "references" else (found[0] if found else None)
        if shape == "secret":
            return self._secret(kind, path, item, model_field, wanted, existing)
        return wanted

    def _differs(self, model_field, item: dict, value: Any, existing) -> bool:
        shape = field_shape(model_field)
        if shape == "secret":
            return value != getattr(existing, model_field.name)
        current = exported_value(model_field, existing, placeholder=str)
        if shape == "references":
            return sorted(reference_of(e) for e in value) != current
        if shape == "reference":
            return (reference_of(value) if value is not None else None) != current
        return canonical(value) != current

    def _secret(self, kind: Kind, path: str, item: dict, model_field, wanted, existing) -> Any:
        name = model_field.name
        stored = bool(existing is not None and getattr(existing, name))
        optional = name in kind.optional_secrets
        if wanted == "":
            return _KEEP if optional and stored else ""
        placeholder = wanted["$secret"]
        info = self.doc["secrets"][placeholder]
        state = self.secret_state.setdefault(
            placeholder,
            Secret(
                name=placeholder,
                kind=kind.name,
                element=ref_of(item),
                field=name,
                description=info.get("description", ""),
                required=not optional,
                given=placeholder in self.given,
            ),
        )
        if placeholder in self.given:
            return _decode(model_field, self.given[placeholder])
        if stored:
            state.stored = True
            return _KEEP
        if optional:
            return ""
        if not self.dry:
            self.problem(
                f"{path}.{name}",
                f"the secret {placeholder!r} ({kind.label} {ref_of(item)}: {name}) was not given",
            )
        return STAND_IN

    def _save(self, kind, path, ref, namespace, name, existing, values) -> models.Model | None:
        try:
            with transaction.atomic():
                return kind.save(
                    namespace=namespace, name=name, instance=existing, fields=values,
                    actor=self.user,
                )  # fmt: skip
        except ValidationError as error:
            for field_name, messages in _messages(error).items():
                where = path if field_name == NON_FIELD_ERRORS else f"{path}.{field_name}"
                for message in messages:
                    self.problem(where, f"{kind.label} {ref}: {message}")
        except IntegrityError as error:
            self.problem(path, f"{kind.label} {ref}: {error}")
        return None

    # --- what the document no longer holds ----------------------------------------

    def _removals(self, installed: Collection) -> list[Step]:
        rows = installed.members.values_list("kind", "object_id")
        held = {(table_of(kind), ref_of(item)) for kind, _, item in items(self.doc)}
        gone = {
            key: element
            for key, element in elements_of(rows).items()
            if (table_of(BY_NAME[key[0]]), reference_of(element)) not in held
        }
        others = (
            CollectionElement.objects.exclude(collection=installed)
            .filter(object_id__in=[pk for _, pk in gone])
            .values_list("kind", "object_id", "collection__name")
        )
        elsewhere = {(kind, pk): name for kind, pk, name in others}
        steps = []
        for kind in reversed(KINDS):  # what refers to others goes first
            of_kind = [(key, e) for key, e in gone.items() if key[0] == kind.name]
            for key, element in sorted(of_kind, key=lambda pair: reference_of(pair[1])):
                steps.append(self._remove(kind, element, elsewhere.get(key)))
        return steps

    def _remove(self, kind: Kind, element, other_collection: str | None) -> Step:
        ref = reference_of(element)
        if other_collection is not None:
            return Step(KEEP, kind.name, ref, note=f"collection {other_collection} holds it too")
        user = self.user
        if user is not None and not permissions.can_change(user, element.namespace):
            message = f"removing {kind.label} {ref}: you may not change its namespace"
            self.forbidden.append(Problem("$", message))
            return Step(REMOVE, kind.name, ref)
        note = ""
        if kind.name == "data_type":
            count = Record.objects.filter(data_type=element).count()
            note = f"with its {count} record(s)" if count else ""
        why = f"{self.doc['version']} no longer holds {kind.label} {ref}, which cannot be removed"
        collector = Collector(using=router.db_for_write(type(element)))
        try:
            collector.collect([element])
        except (ProtectedError, RestrictedError) as error:
            users = ", ".join(sorted(str(o) for o in error.args[1]))[:300]  # the objects
            self.problem("$", f"{why}: {users} still use(s) it")
            return Step(REMOVE, kind.name, ref, note=note)
        # A cascade would take elements the collection does not hold (an observer someone
        # made on a data type it drops): refuse rather than delete them unasked.
        victims = sorted(
            f"{kind_of(other).name} {reference_of(other)}"
            for model, instances in collector.data.items()
            if kinds_of_model(model)
            for other in instances
            if other.pk != element.pk or concrete_model(model) is not concrete_model(kind.model)
        )
        if victims:
            self.problem("$", f"{why}: removing it would also delete {', '.join(victims)}")
            return Step(REMOVE, kind.name, ref, note=note)
        with transaction.atomic():
            element.delete()
        return Step(REMOVE, kind.name, ref, note=note)

    # --- records and the collection itself ----------------------------------------

    def _records(self) -> list[RecordsStep]:
        steps = []
        for ref, records in self.doc.get("records", {}).items():
            data_type = cast(DataType | None, self.saved.get(("data.DataType", ref)))
            if data_type is None:
                continue
            if not data_type.primary_key:
                self.problem(json_path(["records", ref]), NO_KEY.format(data_type))
                continue
            with events_discarded():  # installing configuration is not a business event
                result = records_save(data_type=data_type, records=records, source="collection")
            for error in result.errors:
                base = json_path(["records", ref, error.index])
                for problem in error.problems:
                    self.problem(base + problem.path[1:], problem.message)
            steps.append(RecordsStep(ref, result.created, result.updated, result.unchanged))
        return steps

    def _collection(self, installed: Collection | None, plan: Plan) -> Collection | None:
        doc = self.doc
        collection = installed or Collection(name=doc["name"])
        wanted = {
            "title": doc.get("title", ""),
            "version": doc["version"],
            "description": doc.get("description", ""),
            "authors": doc.get("authors", []),
        }
        changes = [k for k, v in wanted.items() if getattr(collection, k) != v]
        plan.collection_action = CREATE if installed is None else UPDATE if changes else UNCHANGED
        plan.collection_changes = changes if installed is not None else []
        plan.namespaces = list(self.created_namespaces)
        if self.problems or self.forbidden:
            return None
        if plan.collection_action != UNCHANGED:
            for key, value in wanted.items():
                setattr(collection, key, value)
            try:
                collection.full_clean()
            except ValidationError as error:
                for field_name, messages in _messages(error).items():
                    self.problems += [Problem(f"$.{field_name}", m) for m in messages]
                return None
            try:
                with transaction.atomic():
                    collection.save()
            except IntegrityError:  # installed at the same moment by someone else
                self.problem("$.name", f"{collection.name} was installed meanwhile; try again")
                return None
        self._members(collection)
        return collection

    def _members(self, collection: Collection) -> None:
        """The collection's membership rows become exactly the document's elements."""
        needed: set[tuple[str, str]] = set()
        for kind, _, item in items(self.doc):
            for model_field in kind.fields:
                shape, value = field_shape(model_field), item.get(model_field.name)
                if shape in {"reference", "references"} and value:
                    table = table_of(target_kinds(model_field)[0])
                    for ref in value if shape == "references" else [value]:
                        needed.add((table, ref))
        records = set(self.doc.get("records", {}))
        wanted: dict[tuple[str, int], tuple[bool, bool]] = {}
        for kind, _, item in items(self.doc):
            ref = ref_of(item)
            element = self.saved[(table_of(kind), ref)]
            chosen = (table_of(kind), ref) not in needed
            wanted[(kind.name, element.pk)] = (chosen, kind.name == "data_type" and ref in records)
        members_write(collection, wanted, exact=True)


def _messages(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return error.message_dict
    return {NON_FIELD_ERRORS: error.messages}
