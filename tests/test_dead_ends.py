"""Where a new user clicks or types first: no debug pages, no 404s, JSON for API clients."""

import pytest
from rest_framework.test import APIClient

from apps.data.api.views import NamespaceViewSet


def test_root_redirects_to_the_console_and_the_favicon_exists(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"


def test_the_api_root_lists_the_endpoints(api, namespace):
    api.post("/api/v2/setup/data_type/", {"namespace": "crm", "name": "Contact",
             "schema": {"type": "object"}}, format="json")  # fmt: skip
    body = api.get("/api/v2/").json()
    assert body["setup"]["flow"] == "http://testserver/api/v2/setup/flow/"
    assert len(body["setup"]) >= 14
    assert body["records"] == {"crm.Contact": "http://testserver/api/v2/crm/Contact/"}
    assert APIClient().get("/api/v2/").status_code == 401


def test_swagger_description_names_the_paths(api):
    schema = api.get("/api/schema/?format=json").json()
    assert "`/api/v2/setup/{kind}/`" in schema["info"]["description"]


@pytest.mark.parametrize("debug", [True, False])
def test_api_clients_get_json_errors_in_every_mode(api, settings, monkeypatch, debug):
    settings.DEBUG = debug

    def broken(self, request, *args, **kwargs):
        raise RuntimeError("a bug with a secret inside")

    monkeypatch.setattr(NamespaceViewSet, "list", broken)
    response = api.get("/api/v2/setup/namespace/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert "Internal server error" in response.json()["detail"]
    assert "secret" not in response.content.decode()
    missing = api.get("/api/v2/nope/")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not found."}
    unknown_host = api.get("/api/v2/setup/namespace/", HTTP_HOST="evil.example")
    assert unknown_host.status_code == 400 and unknown_host["Content-Type"] == "application/json"
    assert unknown_host.json() == {"detail": "Bad Request"}  # not the debug page's HTML


def test_the_oauth_error_page_is_the_consoles(admin_client):
    page = admin_client.get("/security/oauth/callback/?state=forged&code=x").content.decode()
    assert "Integration platform" in page and "Django administration" not in page


def test_a_misspelt_list_filter_is_a_400_naming_the_filters_and_the_schema_lists_them(api):
    """?stauts=failed listed every task; now it says what the list is filtered by, and
    the OpenAPI schema has each list's filters as query parameters."""
    wrong = api.get("/api/v2/setup/task/?stauts=failed")
    assert wrong.status_code == 400
    assert wrong.json() == {
        "stauts": "Not a filter of this list: it is narrowed by flow, kind, status, and paged "
        "with page and page_size."
    }
    assert api.get("/api/v2/setup/task/?status=failed&page_size=5").status_code == 200
    assert api.get("/api/v2/setup/flow/?namespace=crm&name=x").json()["count"] == 0
    assert api.get("/api/v2/setup/namespace/?name=nope").json()["count"] == 0
    assert api.get("/api/v2/setup/webhook/?nmae=x").status_code == 400
    schema = api.get("/api/schema/?format=json").json()
    task_list = schema["paths"]["/api/v2/setup/task/"]["get"]["parameters"]
    assert {"status", "kind", "flow", "page", "page_size"} <= {p["name"] for p in task_list}
    logs = schema["paths"]["/api/v2/setup/request_log/"]["get"]["parameters"]
    assert {"webhook", "connection", "status", "failed"} <= {p["name"] for p in logs}
