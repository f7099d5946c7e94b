"""The code of a connector's algorithms (seed 004): short Python calling the platform's library.

Each function returns ``{name: (parameters, code, description)}`` for one
resource (or for the connector). The code is what a user reads and edits in
the admin: the HTTP calls, pagination, upserts and digests are ``api`` calls
answered by the platform (``apps.workflows.engine.calls``), not re-implemented
here. Call structure, as in Cenit::

    do_import_rn  -> do_get_rn  -> parse_from_api_response_rn
    do_import_rns -> do_get_rns (one page) -> parse_from_api_response_rns   (lot by lot)
    handle_rn: trigger_for_change_rn -> do_export_rn -> parse_2_api_request_rn
        -> do_create_rn | do_update_rn -> do_check_error_response
        -> parse_from_api_response_rn (the answer stored back)
"""

from __future__ import annotations

from typing import Any

from .spec import DEFAULT_ID_PATHS, data_type_name

FROM_API = "MAPPING_FROM_API_RESPONSE"
PENDING = "PENDING-PUBLISH-FROM"
PAGES_PER_RUN = 50  # pages one run of do_import_rns reads before it runs again
# do_import_rns takes these at the top level of its input too, or inside `options`.
IMPORT_OPTIONS = [("since", "any"), ("params", "object"), ("pages_per_run", "integer")]

Code = tuple[list[dict[str, Any]], str, str]


def _p(name: str, kind: str = "object", required: bool = False) -> dict[str, Any]:
    return {"name": name, "type": kind, "required": required}


def resource_algorithms(resource: dict) -> dict[str, Code]:
    rn, rns = resource["name"], resource["plural"]
    dt, pk = data_type_name(rn), resource["primary_key"]
    processes = resource["processes"]
    found: dict[str, Code] = {}
    if "import" in processes:
        found.update(_import_algorithms(resource, rn, rns, dt, pk))
    found[f"parse_from_api_response_{rn}"] = (
        [_p("data", "any", True), _p("replaces", "string")],
        f"""# Store one {rn} as the API sent it: remote_id, raw_data, hmac, imported_at and
# last_source {FROM_API}, upserted by remote_id. `replaces`: the key of
# the local record the API just created (it gives way to the stored one).
if not isinstance(data, dict):
    raise ValueError("The API sent no {rn} but %r" % (data,))
saved = api.records("{dt}").save_imported([data], primary_key={pk!r}, replaces=replaces)
if saved["invalid"] or saved["without_id"]:
    raise ValueError("The {rn} the API sent could not be stored: %r" % (saved,))
return api.records("{dt}").get(str(data[{pk!r}]))
""",
        f"Stores one {rn} from an API answer.",
    )
    if "export" in processes:
        found.update(_export_algorithms(resource, rn, dt, pk))
    return found


def _import_algorithms(resource: dict, rn: str, rns: str, dt: str, pk: str) -> dict[str, Code]:
    imports = resource["import"]
    incremental = imports.get("incremental")
    records_path = imports.get("records_path") or ""
    unwrap = (
        f"""if isinstance(body, dict) and api.search({records_path!r}, body):
    found = api.search({records_path!r}, body)
    body = found[0] if isinstance(found, list) else found
"""
        if records_path
        else ""
    )
    since = (
        f"""since = options.get("since")
if since:
    params[{incremental["param"]!r}] = since  # incremental: only what changed since then
"""
        if incremental
        else ""
    )
    cursor_start = (
        """    last = api.task.last_result() or {}
    state["since"] = options.get("since") or last.get("cursor")
    state["cursor"] = state["since"]
"""
        if incremental
        else ""
    )
    cursor_track = (
        """    newest = saved["cursor"]
    if newest and (state["cursor"] is None or newest > state["cursor"]):
        state["cursor"] = newest
"""
        if incremental
        else ""
    )
    done = '{"imported": state["imported"], "pages": state["pages"]' + (
        ', "cursor": state["cursor"]}' if incremental else "}"
    )
    since_option = '"since": state.get("since"), ' if incremental else ""
    cursor_arg = f", cursor_field={incremental['cursor_field']!r}" if incremental else ""
    return {
        f"do_import_{rn}": (
            [_p("remote_id", "any"), _p("options")],
            f"""# Import one {rn}: {{"remote_id": "..."}} (or options {{"remote_id": "..."}}).
options = dict(options or {{}})
if remote_id not in (None, ""):
    options["remote_id"] = remote_id
record = api.run("do_get_{rn}", options=options)
return api.run("parse_from_api_response_{rn}", data=record)
""",
            f"Imports one {rn} by its remote id.",
        ),
        f"do_get_{rn}": (
            [_p("remote_id", "any"), _p("options")],
            f"""# Ask the API for one {rn} (webhook get_{rn}) and return it as sent.
if remote_id in (None, ""):
    remote_id = (options or {{}}).get("remote_id")
if remote_id in (None, ""):
    raise ValueError('do_get_{rn} needs options like {{"remote_id": "..."}}')
answer = api.fetch_page("get_{rn}", values={{"remote_id": str(remote_id)}})
body = answer["records"][0] if answer["records"] else None
{unwrap}return body
""",
            f"Fetches one {rn} from the API.",
        ),
        f"do_import_{rns}": (
            [_p("options"), *[_p(name, kind) for name, kind in IMPORT_OPTIONS]],
            f"""# Import every {rn}, page by page. api.task.state remembers the next page: a run
# reads up to `pages_per_run` pages, then runs again; a run stopped by a crash
# resumes at the page where it stopped (records are upserted by remote_id).
# Options: {{"since": ..., "params": {{...}}, "pages_per_run": n}}, or each on its own.
options = dict(options or {{}})
for name, value in (("since", since), ("params", params), ("pages_per_run", pages_per_run)):
    if value is not None:
        options[name] = value
state = api.task.state
if "pages" not in state:
    state["pages"] = 0
    state["imported"] = 0
    state["page"] = None
{cursor_start}for _ in range(options.get("pages_per_run", {PAGES_PER_RUN})):
    page = api.run("do_get_{rns}", options={{{since_option}"params": options.get("params")}},
                   page=state["page"])
    saved = api.run("parse_from_api_response_{rns}", data=page["records"])
    state["pages"] += 1
    state["imported"] += saved["created"] + saved["updated"] + saved["unchanged"]
{cursor_track}    state["page"] = page["next"]
    if state["page"] is None:
        return {done}
    api.task.checkpoint()
api.task.run_again()
return {done}
""",
            f"Imports every {rn}, lot by lot (resumable).",
        ),
        f"do_get_{rns}": (
            [_p("options"), _p("page")],
            f"""# One page of {rns} from the API (webhook get_{rns}, with its pagination):
# {{"records", "count", "next": where the next page starts, or None after the last}}.
# The records stay in the platform (hold): without it they come here, to work on.
options = options or {{}}
params = dict(options.get("params") or {{}})
{since}return api.fetch_page("get_{rns}", params=params, page=page, hold=True)
""",
            f"Fetches one page of {rns} from the API.",
        ),
        f"parse_from_api_response_{rns}": (
            [_p("data", "any", True)],
            f"""# Store a page of {rns} as the API sent them (a list, or a page the platform holds),
# upserted by remote_id. A page of which nothing could be stored fails the import.
saved = api.records("{dt}").save_imported(data, primary_key={pk!r}{cursor_arg})
stored = saved["created"] + saved["updated"] + saved["unchanged"]
failed = saved["invalid"] + saved["missing_ids"]
if failed:
    why = []
    if saved["missing_ids"]:
        why.append("%d without the primary key {pk!r}" % saved["missing_ids"])
    for error in saved["errors"][:3]:
        why.append("#%s: %s" % (error["index"], "; ".join(
            "%s %s" % (p["path"], p["message"]) for p in error["errors"])))
    message = "%d of the %d {rns} of this page could not be stored: %s" % (
        failed, stored + failed, ", ".join(why))
    if not stored:
        raise ValueError(message)
    api.notify(message, level="warning")
return saved
""",
            f"Stores a page of {rns} from an API answer.",
        ),
    }


def _export_algorithms(resource: dict, rn: str, dt: str, pk: str) -> dict[str, Code]:
    exports = resource["export"]
    shape = exports.get("body_shape", "raw")
    body = {
        "raw": 'return record.get("raw_data") or {}',
        "wrapped": f"return {{{exports.get('wrap_key', 'data')!r}: "
        '[record.get("raw_data") or {}]}',
        "template": "return None  # the body template of the webhook renders it from the record",
    }[shape]
    id_paths = [exports["id_path"]] if exports.get("id_path") else DEFAULT_ID_PATHS
    return {
        f"trigger_for_change_{rn}": (
            [_p("record", "object", True), _p("previous")],
            f"""# Export a {rn} when its raw_data changed (its hmac differs from the one it had)
# and the change did not come from the API (last_source {FROM_API}).
if record.get("last_source") == "{FROM_API}":
    return False
digest = api.run("do_generate_hmac", data=record.get("raw_data"))
if digest in (record.get("hmac"), (previous or {{}}).get("hmac")):
    api.notify("{dt} %s is unchanged (same hmac): not exported." % record.get("remote_id"))
    return False
return True
""",
            f"Decides whether a change of a {rn} is exported.",
        ),
        f"do_export_{rn}": (
            [_p("record", "object", True)],
            f"""# Send a {rn} to the API: create it when it has no remote id yet (empty or
# {PENDING}...), else update it; the answer is stored back, which
# is not exported again. One export of a record at a time (the lock).
key = record.get("remote_id") or ""
if not api.lock("export {dt} " + key):
    raise ValueError("{dt} %s: another export of it did not end in time" % key)
current = api.records("{dt}").get(key)
if current is None or not api.run("trigger_for_change_{rn}", record=current, previous=None):
    return None  # exported meanwhile, or nothing to send
body = api.run("parse_2_api_request_{rn}", record=current)
if not key or key.startswith("{PENDING}"):
    answer = api.run("do_create_{rn}", body=body, record=current)
else:
    answer = api.run("do_update_{rn}", body=body, record=current)
stored = api.run("parse_from_api_response_{rn}", data=answer, replaces=key)
api.unlock("export {dt} " + key)
return stored
""",
            f"Exports one {rn} (create or update).",
        ),
        f"parse_2_api_request_{rn}": (
            [_p("record", "object", True)],
            f"""# The request body for a {rn}: {shape} ({_shape_text(exports)}).
{body}
""",
            f"Formats a {rn} for the API.",
        ),
        f"do_create_{rn}": (
            [_p("body", "any"), _p("record", "object", True)],
            f"""# Create a {rn} (webhook create_{rn}); return it as the API knows it, with its id.
response = api.submit("create_{rn}", body=body, values=record, check=False)
api.run("do_check_error_response", response=response)
answer = response["body"]
remote_id = None
for path in {id_paths!r}:
    remote_id = api.search(path, answer)
    if remote_id not in (None, ""):
        break
if remote_id in (None, "") or isinstance(remote_id, (dict, list)):
    raise ValueError("The answer to create_{rn} holds no id at %s: %.300r" % ({id_paths!r}, answer))
if isinstance(answer, dict) and answer.get({pk!r}) == remote_id:
    return answer
data = dict(record.get("raw_data") or {{}})
data[{pk!r}] = remote_id
return data
""",
            f"Creates a {rn} in the API.",
        ),
        f"do_update_{rn}": (
            [_p("body", "any"), _p("record", "object", True)],
            f"""# Update a {rn} (webhook update_{rn}); return it as the API knows it.
response = api.submit("update_{rn}", body=body, values=record, check=False)
api.run("do_check_error_response", response=response)
answer = response["body"]
if isinstance(answer, dict) and str(answer.get({pk!r})) == record["remote_id"]:
    return answer
data = dict(record.get("raw_data") or {{}})
data.setdefault({pk!r}, record["remote_id"])
return data
""",
            f"Updates a {rn} in the API.",
        ),
    }


def _shape_text(exports: dict) -> str:
    shape = exports.get("body_shape", "raw")
    if shape == "wrapped":
        return f"the raw_data wrapped as {{{exports.get('wrap_key', 'data')!r}: [raw_data]}}"
    if shape == "template":
        return "the webhook's Jinja body template, given the record"
    return "the raw_data as JSON"


def shared_algorithms() -> dict[str, Code]:
    return {
        "do_check_error_response": (
            [_p("response", "object", True)],
            """# Fail with the HTTP status and the API's own message when the answer is an error.
status = response.get("status") or 0
if status < 400:
    return response
body = response.get("body")
message = body
if isinstance(body, dict):
    message = body.get("message") or body.get("error") or body.get("detail") or body
if response.get("error"):  # the request, its status and attempts, as the platform saw them
    raise ValueError("%s (the API says: %s)" % (response["error"], message))
raise ValueError("The API answered HTTP %s: %s" % (status, message))
""",
            "Turns an error answer of the API into a failure that says why.",
        ),
        "do_generate_hmac": (
            [_p("data", "any")],
            """# The digest that tells a changed record from an unchanged one (sha256, sorted JSON).
return api.hmac(data)
""",
            "Computes the hmac of a record's raw data.",
        ),
    }
