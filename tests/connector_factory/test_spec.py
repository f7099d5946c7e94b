"""The spec: every problem reported by its path; defaults; the plan of elements."""

from __future__ import annotations

from apps.connector_factory.generator import connector_plan
from apps.connector_factory.spec import SPEC_SCHEMA, spec_normalize, spec_problems

from .specs import contact_spec


def test_a_good_spec_has_no_problem():
    assert spec_problems(contact_spec("https://api.example.com/v2")) == []
    assert SPEC_SCHEMA["title"] == "Connector spec"


def test_every_problem_is_reported_by_its_path():
    spec = contact_spec("ftp://api.example.com")
    spec["authorization"] = {"type": "bearer"}
    resource = spec["resources"][0]
    del resource["import"]["pagination"]["size_param"]
    resource["import"]["records_path"] = "data["
    resource["export"]["update"]["path"] = "/contacts/{{remote_id}}"
    spec["resources"].append({"name": "Lead", "processes": ["import"]})
    spec["resources"].append({"name": "deal", "processes": ["import"], "import": {
        "get_one": {"path": "deals/{{remote_id}}"}, "get_many": {"path": "deals"},
        "pagination": {"type": "cursor", "page": 1}}})  # fmt: skip
    problems = spec_problems(spec)
    assert problems == [
        "resources[1].name must be a lowercase identifier (a letter, then letters, digits or "
        "'_'), not 'Lead'",
        "authorization.token is required for bearer",
        "connection.base_url: 'ftp://api.example.com' is not an http(s) URL; write it like "
        "'https://api.example.com/v2'",
        "resources[0].import.records_path: 'data[' is not a valid JMESPath expression (Invalid "
        'jmespath expression: Incomplete expression: "data[" ^)',
        "resources[0].import.pagination.size_param is required for page_number",
        "resources[0].export.update.path: '/contacts/{{remote_id}}' must be relative to the base "
        "URL, without a leading or trailing '/', e.g. 'contacts/{{remote_id}}'",
        "resources[2].import.pagination.page is not an option of type 'cursor' (its options: "
        "cursor_field, cursor_param, has_more_path, max_pages, next_cursor_path)",
        "resources[2].import.pagination: Type 'cursor' needs 'next_cursor_path' or 'cursor_field'",
    ]


def test_names_that_collide_are_refused():
    spec = contact_spec("https://api.example.com")
    spec["resources"].append({**spec["resources"][0], "name": "contacts", "plural": "people"})
    assert spec_problems(spec) == [
        "resources[1].plural: 'people' makes the element get_contacts that resources[0] makes "
        "too; choose another name or plural"
    ]
    spec = contact_spec("https://api.example.com")
    spec["extra"] = 1
    spec["resources"][0]["processes"] = ["import", "import"]
    assert spec_problems(spec) == [
        "extra: not a field here (fields: authorization, connection, description, name, "
        "resources, title)",
        "resources[0].processes lists an item twice",
    ]


def test_defaults_are_filled():
    spec = contact_spec("https://api.example.com")
    spec["resources"][0]["import"]["schedule"] = "*/15 * * * *"
    del spec["resources"][0]["export"]["create"]["method"]
    resource = spec_normalize(spec)["resources"][0]
    assert resource["plural"] == "contacts"
    assert resource["import"]["schedule"] == "cron */15 * * * *"
    assert resource["import"]["pagination"]["start_page"] == 1
    assert resource["export"]["create"]["method"] == "POST"
    assert resource["export"]["body_shape"] == "raw"


def test_the_plan_has_the_seeds_elements_for_the_chosen_processes():
    spec = contact_spec("https://api.example.com")
    spec["resources"][0]["processes"] = ["import"]
    names = [name for _, name in connector_plan(spec)]
    assert names == [
        "default_authorization", "default_connection", "Contact", "get_contact",
        "get_contacts", "do_import_contact", "do_import_contacts", "do_get_contact",
        "do_get_contacts", "parse_from_api_response_contacts", "parse_from_api_response_contact",
        "import_contacts", "do_check_error_response", "do_generate_hmac",
    ]  # fmt: skip
    spec = contact_spec("https://api.example.com", type="oauth2")
    spec["resources"][0]["processes"] = ["export"]
    plan = connector_plan(spec)
    assert plan[:3] == [("authorization", "default_authorization"),
                        ("authorization_client", "default_client"),
                        ("authorization_provider", "default_provider")]  # fmt: skip
    assert ("observer", "handle_contact") in plan and ("flow", "export_contact") in plan
    assert not [name for _, name in plan if "import" in name or name.startswith("get_")]


def test_an_unknown_or_missing_section_hides_no_other_problem():
    spec = contact_spec("ftp://api.example.com")
    spec["colour"] = "blue"  # a key the spec does not know
    spec["resources"][0]["import"]["records_path"] = "data["
    problems = spec_problems(spec)
    assert any("colour" in p for p in problems)
    assert any(p.startswith("connection.base_url: 'ftp://api.example.com'") for p in problems)
    assert any(p.startswith("resources[0].import.records_path") for p in problems)
    del spec["colour"], spec["connection"]
    problems = spec_problems(spec)
    assert any("connection" in p and "required" in p for p in problems)
    assert any(p.startswith("resources[0].import.records_path") for p in problems)


def test_a_connector_is_not_named_after_a_page_of_the_wizard():
    problems = spec_problems(contact_spec("https://api.example.com", name="add"))
    assert problems == ["name 'add' is the name of a page of the wizard; choose another name"]
