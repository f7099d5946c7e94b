"""Running a flow, by its translator's type (DESIGN §5).

* import — fetch every page of the webhook, parse, store into the target type;
* conversion — map source records to target records and store them;
* export — render the records (or the lot, for bulk templates), submit them to
  the webhook, and store the parsed answer through the response translator;
* update — change records in place.

Records are read in primary-key order and the task's ``state["cursor"]``
remembers the last one done, so a retried export resumes after the records
already sent instead of sending them twice; imports and conversions are
idempotent upserts by key anyway.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

from apps.data.models import DataType, Record
from apps.data.services import SaveResult, records_save
from apps.data.upsert import records_of_keys

from ..models import Flow, Translator
from .conditions import all_hold
from .translators import render_bodies, translate_records

if TYPE_CHECKING:
    from apps.gateway.models import Webhook

READ_CHUNK = 500


class FlowError(Exception):
    """A flow step failed; ``detail`` says where (record key, status, body excerpt)."""

    def __init__(self, message: str, *, code: str = "flow_failed", detail: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.detail = detail


def run_flow(flow: Flow, context, *, keys: list[str] | None) -> dict[str, Any]:
    if flow.translator is None:
        return _run_algorithm(flow, context, keys)
    kind = flow.translator.type
    runners: dict[str, Callable[[Flow, Any, list[str] | None], dict[str, Any]]] = {
        Translator.Type.IMPORT: _import,
        Translator.Type.CONVERSION: _convert,
        Translator.Type.EXPORT: _export,
        Translator.Type.UPDATE: _update,
    }
    return runners[kind](flow, context, keys)


# What clean() requires can still be missing at run time: a translator changed after its
# flows were saved, or rows written around the services. Say so rather than crash on None.
def _run_algorithm(flow: Flow, context, keys) -> dict[str, Any]:
    """An algorithm flow: the algorithm once per record in scope (one runner job per
    chunk), or once without arguments when the flow reads no records."""
    from .algorithms import run_algorithm, run_algorithm_many

    algorithm = flow.algorithm
    if algorithm is None:
        raise FlowError(
            f"Flow {flow} has neither translator nor algorithm.", code="incomplete_flow"
        )
    if flow.source_data_type is None:
        return {"result": run_algorithm(algorithm, {}, context=context)}
    done = 0
    for chunk in _source_records(flow, context, keys):
        if chunk:
            run_algorithm_many(algorithm, [{"record": r.data} for r in chunk], context=context)
            done += len(chunk)
            context.save_state()
    return {"records": done}


def _translator(flow: Flow) -> Translator:
    assert flow.translator is not None  # run_flow sends algorithm flows elsewhere
    return flow.translator


def _webhook(flow: Flow) -> Webhook:
    if flow.webhook is None:
        kind = flow.translator.type if flow.translator else "algorithm"
        raise FlowError(
            f"Flow {flow} has no webhook: an {kind} flow calls one.",
            code="incomplete_flow",
        )
    return flow.webhook


def _target_data_type(translator: Translator) -> DataType:
    if translator.target_data_type is None:
        raise FlowError(
            f"Translator {translator} has no target data type to store records into.",
            code="incomplete_flow",
        )
    return translator.target_data_type


def _source_records(flow: Flow, context, keys) -> Iterator[list[Record]]:
    """The records in the flow's scope, in primary-key order, after the saved cursor."""
    data_type = flow.source_data_type
    cursor = context.state.get("cursor", 0)
    # The lot of an observer, on the path of every change: lean reads, no query built.
    lot = keys is not None and data_type is not None and flow.scope == Flow.Scope.EVENT_SOURCE
    if lot:
        total = len(keys) or 1  # no count query needed
        done = 0
        if cursor:
            done = Record.objects.filter(data_type=data_type, key__in=keys, pk__lte=cursor).count()
    else:
        queryset = Record.objects.filter(data_type=data_type)
        if keys is not None and flow.scope == Flow.Scope.EVENT_SOURCE:
            queryset = queryset.filter(key__in=keys)
        total = queryset.count() or 1
        done = queryset.filter(pk__lte=cursor).count() if cursor else 0
    while True:
        if lot:
            assert data_type is not None
            chunk = records_of_keys(data_type.pk, keys, after=cursor, limit=READ_CHUNK)
        else:
            chunk = list(queryset.filter(pk__gt=cursor).order_by("pk")[:READ_CHUNK])
        if not chunk:
            return
        if flow.scope == Flow.Scope.FILTER:
            chunk_in_scope = [r for r in chunk if all_hold(flow.scope_filter, r.data, None)]
        else:
            chunk_in_scope = chunk
        yield chunk_in_scope
        cursor = chunk[-1].pk
        done += len(chunk)
        context.state["cursor"] = cursor
        context.progress(100.0 * done / total)
        if len(chunk) < READ_CHUNK:  # that was the last chunk: spare the empty query
            return


def _tally(total: dict[str, int], result: SaveResult, context, where: str) -> None:
    for name in ("created", "updated", "unchanged"):
        total[name] = total.get(name, 0) + getattr(result, name)
    if result.duplicates:  # a key twice in one page or lot: the last was stored
        total["duplicates"] = total.get("duplicates", 0) + result.duplicates
    if result.errors:
        total["invalid"] = total.get("invalid", 0) + len(result.errors)
        context.notify(
            f"{where}: {len(result.errors)} record(s) did not fit the schema and were skipped; "
            f"first: {result.errors[0]}",
            level="warning",
            attachment=[error.as_dict() for error in result.errors[:50]],
        )


def _store(data_type: DataType, records: list, flow: Flow, context, total: dict) -> None:
    result = records_save(data_type=data_type, records=records, source=f"flow:{flow}")
    _tally(total, result, context, f"Flow {flow} storing into {data_type}")


def _import(flow: Flow, context, keys) -> dict[str, Any]:
    from apps.gateway.client import webhook_fetch
    from apps.gateway.prefetch import prefetching

    translator = _translator(flow)
    fetch = webhook_fetch(
        webhook=_webhook(flow),
        connection=_connection(flow),
        template_values=flow.template_values,
        authorization=flow.authorization,
    )
    total: dict[str, int] = {}
    with prefetching(fetch) as pages:  # the next page is fetched while this one is stored
        for page in pages:
            records = _translate_all(translator, page.records, context)
            _store(_target_data_type(translator), records, flow, context, total)
            context.progress(min(99.0, page.number))  # the number of pages is not known
    return {**total, **fetch.stats.as_dict()}


def _translate_all(translator: Translator, records: list, context) -> list:
    if translator.style == "python" and translator.algorithm is None:
        raise FlowError(
            f"Translator {translator} is in python style but has no algorithm.",
            code="incomplete_flow",
        )
    return translate_records(translator, records, context=context)


def _convert(flow: Flow, context, keys) -> dict[str, Any]:
    translator = _translator(flow)
    total: dict[str, int] = {}
    for chunk in _source_records(flow, context, keys):
        converted = _translate_all(translator, [r.data for r in chunk], context)
        if converted:
            _store(_target_data_type(translator), converted, flow, context, total)
    return total


def _update(flow: Flow, context, keys) -> dict[str, Any]:
    total: dict[str, int] = {}
    for chunk in _source_records(flow, context, keys):
        changed = _translate_all(_translator(flow), [r.data for r in chunk], context)
        if changed:
            # Records were read, so the flow has a source data type.
            _store(cast(DataType, flow.source_data_type), changed, flow, context, total)
    return total


def _connection(flow: Flow):
    if flow.connection_role is not None:
        return flow.connection_role.connections.order_by("pk").first()
    return None


def _export(flow: Flow, context, keys) -> dict[str, Any]:
    from apps.gateway.client import GatewayError, answer_text, webhook_submit

    translator = _translator(flow)
    sent = 0
    responses: dict[str, int] = {}
    connection = _connection(flow)
    for chunk in _source_records(flow, context, keys):
        if not chunk:
            continue
        lots = [chunk] if translator.bulk else [[record] for record in chunk]
        # One runner job renders the chunk (and one more runs the before-submit code).
        bodies = render_bodies(translator, [record.data for record in chunk], context=context)
        if flow.before_submit_id:
            from .algorithms import run_algorithm_many

            bodies = run_algorithm_many(
                flow.before_submit,
                [
                    {"body": body, "records": [record.data for record in lot]}
                    for body, lot in zip(bodies, lots, strict=True)
                ],
                context=context,
            )
        for lot, body in zip(lots, bodies, strict=True):
            data = [record.data for record in lot]
            values = {**flow.template_values, **(data[0] if len(data) == 1 else {})}
            where = f"record {lot[0].key}" if len(lot) == 1 else f"{len(lot)} records"
            if flow.notify_request:
                context.notify(f"Flow {flow} sends {where}", attachment={"body": body})
            try:
                response = webhook_submit(
                    webhook=_webhook(flow),
                    body=body,
                    connection=connection,
                    template_values=values,
                    authorization=flow.authorization,
                    content_type=translator.mime_type,
                )
            except GatewayError as error:
                raise FlowError(
                    f"Flow {flow}: exporting {where} failed: {error}",
                    code="export_failed",
                    detail={"keys": [r.key for r in lot], "error": str(error)},
                ) from error
            finally:
                # Everything before this lot is sent: a retry starts after it.
                context.save_state()
            sent += len(lot)
            context.state["cursor"] = lot[-1].pk
            responses[str(response.status_code)] = responses.get(str(response.status_code), 0) + 1
            if flow.notify_response:
                context.notify(
                    f"Flow {flow}: {where} answered {response.status_code}",
                    attachment={"body": answer_text(response)},  # secrets hidden
                )
            _store_response(flow, response, context)
    return {"sent": sent, "responses": responses}


def _store_response(flow: Flow, response, context) -> None:
    translator = flow.response_translator
    if translator is None or not response.content:
        return
    from coderunner.translation import parse_body

    # The whole header: its charset tells how to decode the body.
    mime = response.headers.get("Content-Type") or translator.mime_type
    parsed = parse_body(response.content, mime_type=mime)
    if translator.records_path:
        import jmespath

        parsed = jmespath.search(translator.records_path, parsed)
    records = parsed if isinstance(parsed, list) else [parsed]
    target = flow.response_data_type or _target_data_type(translator)
    translated = _translate_all(translator, [r for r in records if isinstance(r, dict)], context)
    result = records_save(data_type=target, records=translated, source=f"flow:{flow}:response")
    if result.errors:
        raise FlowError(
            f"Flow {flow}: the answer did not fit {target}: {result.errors[0]}",
            code="response_invalid",
            detail={"body": json.dumps(parsed, default=str)[:2000]},
        )
