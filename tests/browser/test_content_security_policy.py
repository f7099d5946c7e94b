"""Issue 9.8: the Content-Security-Policy holds and the pages still work under it, in
Chromium: the admin (JSON editor, the authorization form's script, the webhook's Try
page, the OAuth Authorize round trip to another origin) and Swagger UI. Any CSP
violation the browser reports fails the test.
"""

import pytest

from apps.data.services import data_type_save
from apps.gateway.services import connection_save, webhook_save
from apps.security import services
from tests.security.oauth_server import OAuthServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
    (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


@pytest.fixture
def watched(admin_page):
    """The signed-in page, with every CSP violation (event or console) collected."""
    page = admin_page
    seen: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and seen.append(m.text))
    page.add_init_script(WATCH)
    page.violations = lambda: seen + page.evaluate("window.__csp || []")
    return page


def test_admin_and_swagger_load_without_violations(watched, live_server, namespace):
    page, base = watched, live_server.url
    data_type = data_type_save(namespace=namespace, name="Contact", schema={"type": "object"})
    connection = connection_save(namespace=namespace, name="api", base_url="https://x.example")
    webhook = webhook_save(namespace=namespace, name="get", path="x", connection=connection)
    response = page.goto(f"{base}/admin/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    for path, ready in [
        ("/admin/", "#site-name"),
        ("/admin/data/datatype/", "#result_list"),
        (f"/admin/data/datatype/{data_type.pk}/change/", ".json-editor, textarea"),
        ("/admin/security/authorization/add/", "#id_kind"),
        (f"/admin/gateway/webhook/{webhook.pk}/try/", "input[type=submit]"),
        ("/admin/workflows/task/", "#changelist"),
    ]:
        page.goto(f"{base}{path}")
        page.wait_for_selector(ready)
    page.goto(f"{base}/admin/security/authorization/add/")
    page.select_option("#id_kind", "api_key")  # the kind script runs: fields follow the kind
    assert page.is_visible("#id_key_name") and not page.is_visible("#id_username")
    page.goto(f"{base}/api/docs/")
    page.wait_for_selector(".opblock")  # Swagger UI rendered the operations
    assert page.violations() == []


def test_the_authorize_round_trip_works_under_the_policy(watched, live_server, namespace):
    with OAuthServer() as provider_api:
        provider = services.authorization_provider_save(
            namespace=namespace, name="p", token_url=provider_api.url("/oauth/token"),
            authorize_url=provider_api.url("/oauth/authorize"),
        )  # fmt: skip
        client = services.authorization_client_save(
            namespace=namespace, name="c", provider=provider,
            client_id=provider_api.credentials.client_id,
            client_secret=provider_api.credentials.client_secret,
        )  # fmt: skip
        authorization = services.authorization_save(
            namespace=namespace, name="o", kind="oauth2", client=client,
            grant_type="authorization_code",
        )  # fmt: skip
        page = watched
        page.goto(f"{live_server.url}/admin/security/authorization/{authorization.pk}/change/")
        page.click("text=Authorize")  # a form posted here, redirected to the provider's origin
        page.wait_for_selector(".messagelist .success")
        authorization.refresh_from_db()
        assert authorization.authorized and authorization.access_token
        assert page.violations() == []
