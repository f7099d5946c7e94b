"""The Connector Factory wizard walked with Django's test client, as a browser WITHOUT JavaScript.

Every submit sends what such a browser would: the values of the page's form as
rendered (hidden inputs, selected options, checked boxes, nothing from the
<template> elements JavaScript would clone), with the user's typing on top.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from apps.connector_factory.generator import connector_generate
from apps.connector_factory.models import Connector
from apps.data import permissions
from apps.data.models import Namespace
from apps.gateway.models import Connection, Webhook
from apps.security.models import Authorization, AuthorizationClient
from apps.workflows.models import Algorithm, Task
from tests.connector_factory.specs import contact_spec

BASE = "/admin/connector-factory/"
ADD = BASE + "add/"
SECRET = "pw-Very-Secret-417"
CLIENT_SECRET = "cs-Hidden-Value-932"


class Form(HTMLParser):
    """What a browser without JavaScript would submit from the page's wizard form."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, list[str]] = {}
        self.kinds: dict[str, str] = {}
        self.options: dict[str, list[str]] = {}
        self._in_template = 0
        self._select: str | None = None
        self._selected = False
        self._textarea: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "template":
            self._in_template += 1
        if self._in_template:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            kind = a.get("type", "text")
            self.kinds[name] = kind
            values = self.fields.setdefault(name, [])
            if kind in ("checkbox", "radio"):
                self.options.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    values.append(a.get("value", "on"))
            else:
                values.append(a.get("value") or "")
        elif tag == "select" and name:
            self._select, self._selected = name, False
            self.kinds[name] = "select"
            self.fields[name] = []
        elif tag == "option" and self._select:
            self.options.setdefault(self._select, []).append(a.get("value", ""))
            if "selected" in a or not self.fields[self._select]:
                if "selected" in a and not self._selected:
                    self.fields[self._select] = []
                    self._selected = True
                if not self.fields[self._select]:
                    self.fields[self._select] = [a.get("value", "")]
        elif tag == "textarea" and name:
            self._textarea = name
            self.kinds[name] = "textarea"
            self.fields[name] = [""]

    def handle_endtag(self, tag):
        if tag == "template":
            self._in_template -= 1
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and not self._in_template:
            self.fields[self._textarea][0] += (
                data.lstrip("\n") if not self.fields[self._textarea][0] else data
            )


class Wizard:
    """A user walking the wizard in a browser without JavaScript."""

    def __init__(self, client, url: str = ADD):
        self.client, self.url = client, url
        self.pages: list[str] = []
        self._take(client.get(url))

    def _take(self, response) -> None:
        assert response.status_code == 200, response.status_code
        self.response = response
        self.html = response.content.decode()
        self.pages.append(self.html)

    @property
    def step(self) -> str:
        match = re.search(r'name="connector_wizard_\w+-current_step" value="(\w+)"', self.html)
        return match.group(1) if match else "(none)"

    def values(self) -> dict[str, list[str]]:
        return Form(self.html).fields

    def submit(self, values: dict | None = None, *, button: tuple[str, str] | None = None) -> None:
        step = self.step
        data = {k: list(v) for k, v in self.values().items()}
        for key, value in (values or {}).items():
            name = key if "-" in key else f"{step}-{key}"
            data[name] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        if button:
            data[button[0]] = [button[1]]
        # follow: Save redirects to the completion page (post/redirect/get)
        self._take(self.client.post(self.url, data, follow=True))

    def errors_of(self, field: str) -> str:
        """The error list rendered in the row of ``field`` ('' if none)."""
        match = re.search(
            r'<div class="form-row field-[\w]+ errors"[^>]*>\s*'
            r'<ul class="errorlist"[^>]*>(.*?)</ul>'
            r'(?:(?!<div class="form-row).)*?name="' + re.escape(field) + '"',
            self.html,
            re.S,
        )
        return re.sub(r"<[^>]+>", " ", match.group(1)) if match else ""

    def visible_pagination_groups(self, index: int = 0) -> list[str]:
        form = self.html.split(f'data-prefix="resources-{index}"', 1)[1].split(
            "</fieldset>\n</fieldset>"
        )[0]
        return re.findall(r'class="pagination-group" data-type="(\w+)">', form)


@pytest.fixture
def staff(admin_user, client):
    client.force_login(admin_user)
    return client


def resource_values(index: int, name: str, **extra) -> dict:
    values = {f"resources-{index}-name": name}
    values.update({f"resources-{index}-{k}": v for k, v in extra.items()})
    return values


def walk_to_resources(wizard: Wizard, *, name="shop", auth=None, base_url="http://127.0.0.1:9/api"):
    auth = auth or {"type": "basic", "username": "shopper", "password": SECRET}
    wizard.submit({"name": name, "title": "The shop"})
    assert wizard.step == "auth_type"
    wizard.submit({"type": auth["type"]})
    if auth["type"] != "none":
        assert wizard.step == "auth"
        wizard.submit({k: v for k, v in auth.items() if k != "type"})
    assert wizard.step == "connection", wizard.html
    wizard.submit(
        {
            "base_url": base_url,
            "connection-parameters-0-name": "lang",
            "connection-parameters-0-value": "en",
            "connection-headers-0-name": "X-Client",
            "connection-headers-0-value": "wizard",
        }
    )
    assert wizard.step == "resources", wizard.html


def fill_two_resources(wizard: Wizard) -> None:
    """A contact (import + export, page_number) and a deal (import only, offset)."""
    wizard.submit(
        resource_values(
            0,
            "contact",
            processes=["import", "export"],
            get_one_path="contacts/{{remote_id}}",
            get_many_path="contacts",
            records_path="data",
            pagination_type="page_number",
            create_path="contacts",
            update_path="contacts/{{remote_id}}",
            body_shape="wrapped",
            wrap_key="data",
            id_path="data[0].id",
            schedule="every 15m",
        )
    )
    # Without JavaScript the page_number options were not shown yet: now they are, alone.
    assert wizard.step == "resources"
    assert "Set the options of page_number" in wizard.errors_of("resources-0-pagination_type")
    assert wizard.visible_pagination_groups(0) == ["page_number"]
    wizard.submit(
        {"resources-0-page_number__size_param": "per_page", "resources-0-page_number__size": "50",
         "resources-0-page_number__has_more_path": "info.more_records"},
        button=("formset_add", "resources"),
    )  # fmt: skip
    assert 'data-prefix="resources-1"' in wizard.html
    wizard.submit(
        resource_values(
            1,
            "deal",
            processes=["import"],
            get_one_path="deals/{{remote_id}}",
            get_many_path="deals",
            pagination_type="offset",
            primary_key="deal_id",
        )
    )
    assert wizard.visible_pagination_groups(1) == ["offset"]
    wizard.submit({"resources-1-offset__limit": "25", "resources-1-offset__total_path": "total"})
    assert wizard.step == "review", wizard.html


# --- the steps -------------------------------------------------------------------------


def test_the_admin_index_opens_with_the_connector_factory(staff):
    html = staff.get("/admin/").content.decode()
    box = html.index('id="connector-factory-box"')
    assert (
        f'href="{BASE}"' in html[box : box + 400] and "Connector Factory" in html[box : box + 400]
    )
    assert box < html.index('class="app-data')  # at the top, before the apps


@pytest.mark.parametrize(
    "kind, fields",
    [
        ("basic", {"username": "text", "password": "password"}),
        ("bearer", {"token": "password"}),
        ("api_key", {"key_name": "text", "key_value": "password", "key_in": "select"}),
        ("oauth2", {"grant_type": "select", "authorization_endpoint": "text",
                    "token_endpoint": "text", "client_id": "text", "client_secret": "password",
                    "scopes": "text", "header_prefix": "text"}),
    ],
)  # fmt: skip
def test_the_authorization_step_has_only_the_fields_of_its_type(staff, kind, fields):
    wizard = Wizard(staff)
    wizard.submit({"name": "shop"})
    wizard.submit({"type": kind})
    assert wizard.step == "auth"
    kinds = {
        k.removeprefix("auth-"): v
        for k, v in Form(wizard.html).kinds.items()
        if k.startswith("auth-")
    }
    assert kinds == fields


def test_no_authorization_skips_its_fields(staff):
    wizard = Wizard(staff)
    wizard.submit({"name": "shop"})
    wizard.submit({"type": "none"})
    assert wizard.step == "connection"


PAGINATIONS = {
    "none": ({}, {"type": "none"}),
    "page_number": (
        {"page_param": "p", "start_page": "0", "size_param": "per_page", "size": "20",
         "total_pages_path": "meta.pages"},
        {"type": "page_number", "page_param": "p", "start_page": 0, "size_param": "per_page",
         "size": 20, "total_pages_path": "meta.pages"},
    ),
    "offset": (
        {"offset_param": "skip", "limit_param": "take", "limit": "30"},
        {"type": "offset", "offset_param": "skip", "limit_param": "take", "limit": 30},
    ),
    "cursor": (
        {"cursor_param": "after", "next_cursor_path": "paging.next", "has_more_path": "more"},
        {"type": "cursor", "cursor_param": "after", "next_cursor_path": "paging.next",
         "has_more_path": "more"},
    ),
    "link_header": ({}, {"type": "link_header"}),
    "next_url": (
        {"next_url_path": "links.next"},
        {"type": "next_url", "next_url_path": "links.next"},
    ),
}  # fmt: skip


def review_spec(wizard: Wizard) -> dict:
    match = re.search(r'<pre id="spec-json">(.*?)</pre>', wizard.html, re.S)
    assert match, wizard.html
    import html

    return json.loads(html.unescape(match.group(1)))


def test_each_pagination_type_asks_for_its_own_options(staff):
    wizard = Wizard(staff)
    walk_to_resources(wizard)
    for kind, (typed, expected) in PAGINATIONS.items():
        values = resource_values(
            0,
            "contact",
            get_one_path="contacts/{{remote_id}}",
            get_many_path="contacts",
            pagination_type=kind,
        )
        wizard.submit(values)
        if typed or (kind == "page_number"):
            # The type's options are shown (alone) before the step goes on.
            assert wizard.step == "resources"
            assert wizard.visible_pagination_groups(0) == [kind]
            wizard.submit({f"resources-0-{kind}__{k}": v for k, v in typed.items()})
        assert wizard.step == "review", (kind, wizard.html)
        assert review_spec(wizard)["resources"][0]["import"]["pagination"] == expected
        wizard.submit(button=("wizard_goto_step", "resources"))
        assert wizard.step == "resources"
        # Back on the step, the options shown are those of the type chosen last.
        assert wizard.visible_pagination_groups(0) == (
            [kind] if typed or kind == "page_number" else []
        )


def errors_text(wizard: Wizard) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", wizard.html))


def test_invalid_input_is_shown_next_to_its_field(staff):
    wizard = Wizard(staff)
    wizard.submit({"name": "Not A Name"})
    assert wizard.step == "name"
    assert "lower-case letters" in wizard.errors_of("name-name")
    wizard.submit({"name": "shop"})
    wizard.submit({"type": "basic"})
    wizard.submit({"username": "shopper"})
    assert wizard.step == "auth"
    assert "required" in wizard.errors_of("auth-password")
    wizard.submit({"username": "shopper", "password": SECRET})
    wizard.submit({"base_url": "ftp://files.example.com"})
    assert wizard.step == "connection"
    assert "is not an http(s) URL" in wizard.errors_of("connection-base_url")
    wizard.submit({"base_url": "http://127.0.0.1:9/api"})
    assert wizard.step == "resources"
    wizard.submit(
        resource_values(
            0,
            "contact",
            processes=["import", "export"],
            get_many_path="contacts",
            records_path="data[",
            pagination_type="page_number",
            create_path="contacts",
            update_path="contacts/{{remote_id}}",
            body_shape="template",
        )
    )
    wizard.submit({"resources-0-page_number__size_param": "per_page"})
    assert wizard.step == "resources"
    assert "resources[0].import.get_one is required" in wizard.errors_of("resources-0-get_one_path")
    assert "is not a valid JMESPath" in wizard.errors_of("resources-0-records_path")
    assert "size is required for page_number" in wizard.errors_of("resources-0-page_number__size")
    assert "body_template is required" in wizard.errors_of("resources-0-body_template")
    assert wizard.errors_of("resources-0-name") == ""
    wizard.submit(
        {
            "resources-0-get_one_path": "contacts/{{remote_id}}",
            "resources-0-records_path": "data",
            "resources-0-page_number__size": "10",
            "resources-0-body_template": "{{ raw_data | tojson }}",
        }
    )  # fmt: skip
    assert wizard.step == "review", errors_text(wizard)


def test_a_secret_is_never_rendered_nor_kept_in_clear(staff):
    wizard = Wizard(staff)
    walk_to_resources(
        wizard,
        auth={"type": "oauth2", "grant_type": "client_credentials", "client_id": "app-1",
              "token_endpoint": "http://127.0.0.1:9/token", "client_secret": CLIENT_SECRET},
    )  # fmt: skip
    # Back to the authorization: the secret is not in the page, and empty keeps it.
    wizard.submit(button=("wizard_goto_step", "auth"))
    assert wizard.step == "auth"
    assert wizard.values()["auth-client_secret"] == [""]
    assert "Leave empty to keep" in wizard.html
    wizard.submit({"client_secret": ""})
    assert wizard.step == "connection"
    wizard.submit()
    fill_two_resources(wizard)
    assert review_spec(wizard)["authorization"]["client_secret"] == "[REDACTED]"
    assert CLIENT_SECRET not in json.dumps(dict(staff.session), default=str)
    wizard.submit()  # Save: the OAuth 2.0 elements, the secret in the client (encrypted)
    assert 'class="completion"' in wizard.html, errors_text(wizard)
    created = wizard.html.split('class="created"', 1)[1].split("</ul>")[0]
    assert "default_client" in created and "default_provider" in created
    client = AuthorizationClient.objects.get(namespace__name="shop", name="default_client")
    assert (client.client_id, client.client_secret) == ("app-1", CLIENT_SECRET)
    wizard.pages.append(staff.get(f"{BASE}shop/").content.decode())
    wizard.pages.append(staff.get(f"{BASE}shop/edit/").content.decode())
    for page in wizard.pages:
        assert CLIENT_SECRET not in page


def test_resources_are_added_and_removed(staff):
    wizard = Wizard(staff)
    walk_to_resources(wizard, auth={"type": "none"})
    fill_two_resources(wizard)
    wizard.submit(button=("wizard_goto_step", "resources"))
    assert 'data-prefix="resources-1"' in wizard.html  # both kept, filled in
    wizard.submit({"resources-0-DELETE": "on"})
    assert wizard.step == "review"
    assert [r["name"] for r in review_spec(wizard)["resources"]] == ["deal"]


def test_parameter_and_header_rows_are_added_without_javascript(staff):
    wizard = Wizard(staff)
    wizard.submit({"name": "shop"})
    wizard.submit({"type": "none"})
    assert wizard.values()["connection-parameters-TOTAL_FORMS"] == ["2"]
    wizard.submit(
        {"base_url": "http://127.0.0.1:9/api", "connection-parameters-0-name": "a",
         "connection-parameters-0-value": "1", "connection-parameters-1-name": "b",
         "connection-parameters-1-value": "2"},
        button=("formset_add", "connection-parameters"),
    )  # fmt: skip
    assert wizard.step == "connection"
    assert wizard.values()["connection-parameters-TOTAL_FORMS"] == ["3"]
    assert wizard.values()["connection-parameters-1-value"] == ["2"]
    wizard.submit({"connection-parameters-2-name": "c", "connection-parameters-2-value": "3",
                   "connection-parameters-0-DELETE": "on"})  # fmt: skip
    assert wizard.step == "resources"
    wizard.submit(
        resource_values(0, "item", get_one_path="items/{{remote_id}}", get_many_path="items")
    )
    assert review_spec(wizard)["connection"]["parameters"] == {"b": "2", "c": "3"}


# --- permissions -----------------------------------------------------------------------


@pytest.fixture
def stored_connector(db):
    namespace = Namespace.objects.create(name="crm_demo", title="CRM")
    spec = contact_spec("http://127.0.0.1:9/api")
    return Connector.objects.create(namespace=namespace, spec=spec)


def test_a_staff_user_without_rights_on_a_namespace_cannot_see_its_connector(
    client, make_user, stored_connector
):
    bob = make_user("bob", is_staff=True)
    client.force_login(bob)
    listing = client.get(BASE).content.decode()
    assert "crm_demo" not in listing
    name = stored_connector.name
    for url in (f"{BASE}{name}/", f"{BASE}{name}/edit/", f"{BASE}{name}/delete/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"{BASE}{name}/import/contact/").status_code == 404
    assert client.post(f"{BASE}{name}/delete/").status_code == 404
    assert Connector.objects.filter(pk=stored_connector.pk).exists()
    # Nor can the wizard write into that namespace.
    wizard = Wizard(client)
    wizard.submit({"name": name})
    assert wizard.step == "name"
    assert "may not" in wizard.errors_of("name-name")


def test_a_viewer_sees_the_connector_but_cannot_change_it(client, make_user, stored_connector):
    carol = make_user("carol", is_staff=True)
    permissions.grant(carol, stored_connector.namespace)
    client.force_login(carol)
    listing = client.get(BASE).content.decode()
    assert 'data-name="crm_demo"' in listing and f"{BASE}crm_demo/edit/" not in listing
    assert client.get(f"{BASE}crm_demo/").status_code == 200
    assert client.get(f"{BASE}crm_demo/edit/").status_code == 403
    assert client.post(f"{BASE}crm_demo/delete/").status_code == 403
    assert client.post(f"{BASE}crm_demo/import/contact/").status_code == 403


def test_the_pages_are_for_staff_only(client, make_user, stored_connector):
    client.force_login(make_user("dave"))
    for url in (BASE, ADD, f"{BASE}crm_demo/"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- save, details, edit, delete --------------------------------------------------------


def test_save_shows_what_was_created_and_details_links_every_element(staff):
    wizard = Wizard(staff)
    walk_to_resources(wizard)
    fill_two_resources(wizard)
    plan = re.findall(r"<tr><td>(\w+)</td><td>(\w+)</td></tr>", wizard.html)
    wizard.submit()  # Save
    assert 'class="completion"' in wizard.html, errors_text(wizard)
    connector = Connector.objects.get(namespace__name="shop")
    created = re.findall(
        r"<li>(\w+)</li>", wizard.html.split('class="created"', 1)[1].split("</ul>")[0]
    )
    assert sorted(created) == sorted(name for _, name in plan)
    assert SECRET not in wizard.html
    # Save redirected (post/redirect/get): a reload shows Details, it sends nothing again
    saved_url = wizard.response.redirect_chain[-1][0]
    assert saved_url == f"{BASE}shop/saved/"
    reload = staff.get(saved_url)
    assert reload.status_code == 302 and reload["Location"] == f"{BASE}shop/"
    authorization = Authorization.objects.get(
        namespace=connector.namespace, name="default_authorization"
    )
    assert authorization.password == SECRET  # stored (encrypted at rest) for the calls
    assert connector.spec["connection"]["headers"] == {"X-Client": "wizard"}

    details = staff.get(f"{BASE}shop/").content.decode()
    links = re.findall(
        r'<tr class="element"><td>[^<]*</td>\s*<td><a href="([^"]+)">(\w+)</a>', details
    )
    assert sorted(name for _, name in links) == sorted(name for _, name in plan)
    for url, _ in links:
        assert staff.get(url).status_code == 200, url
    webhook = Webhook.objects.get(namespace=connector.namespace, name="get_contacts")
    try_url = f"/admin/gateway/webhook/{webhook.pk}/try/"
    assert f'href="{try_url}"' in details
    assert "get_contacts" in staff.get(try_url).content.decode()
    assert SECRET not in details


def test_import_now_starts_the_import_and_links_its_task(staff):
    connector = generate(staff)
    response = staff.post(f"{BASE}{connector.name}/import/contact/", follow=True)
    task = Task.objects.latest("pk")
    assert "do_import_contacts" in str(task.algorithm)
    assert f'href="/admin/workflows/task/{task.pk}/change/"' in response.content.decode()
    assert staff.get(f"{BASE}{connector.name}/import/contact/").status_code == 405  # POST only


def generate(client, **auth):
    from django.contrib.auth import get_user

    spec = contact_spec(
        "http://127.0.0.1:9/api", **(auth or {"type": "basic", "username": "u", "password": SECRET})
    )
    return connector_generate(spec=spec, actor=get_user(client)).connector


def test_edit_reopens_the_wizard_prefilled_and_keeps_the_secret(staff):
    connector = generate(staff)
    url = f"{BASE}{connector.name}/edit/"
    wizard = Wizard(staff, url)
    assert wizard.values()["name-name"] == ["crm_demo"] and "disabled" in wizard.html
    wizard.submit({"title": "CRM, edited"})
    assert wizard.values()["auth_type-type"] == ["basic"]
    wizard.submit()
    assert wizard.step == "auth"
    assert wizard.values()["auth-username"] == ["u"]
    assert wizard.values()["auth-password"] == [""] and "Leave empty to keep" in wizard.html
    wizard.submit()
    assert wizard.values()["connection-base_url"] == ["http://127.0.0.1:9/api"]
    wizard.submit({"base_url": "http://127.0.0.1:9/v2"})
    assert wizard.step == "resources"
    values = wizard.values()
    assert values["resources-0-name"] == ["contact"]
    assert values["resources-0-processes"] == ["import", "export"]
    assert values["resources-0-get_one_path"] == ["contacts/{{remote_id}}"]
    assert values["resources-0-pagination_type"] == ["page_number"]
    assert values["resources-0-page_number__size"] == ["100"]
    assert wizard.visible_pagination_groups(0) == ["page_number"]
    wizard.submit()
    assert wizard.step == "review", errors_text(wizard)
    assert "drop_records" in wizard.html
    wizard.submit()
    assert 'class="completion"' in wizard.html, errors_text(wizard)
    connector.refresh_from_db()
    assert connector.spec["connection"]["base_url"] == "http://127.0.0.1:9/v2"
    assert connector.spec["title"] == "CRM, edited"
    authorization = Authorization.objects.get(
        namespace=connector.namespace, name="default_authorization"
    )
    assert authorization.password == SECRET
    assert Connection.objects.get(namespace=connector.namespace).base_url == "http://127.0.0.1:9/v2"
    for page in wizard.pages:
        assert SECRET not in page


def test_delete_asks_first_then_removes_the_connector(staff):
    connector = generate(staff)
    page = staff.get(f"{BASE}{connector.name}/delete/").content.decode()
    assert "Yes, delete it" in page and "do_import_contacts" in page
    assert Connector.objects.filter(pk=connector.pk).exists()
    response = staff.post(f"{BASE}{connector.name}/delete/", follow=True)
    assert response.redirect_chain[-1][0] == BASE
    assert "was deleted" in response.content.decode()
    assert not Connector.objects.filter(pk=connector.pk).exists()
    assert not Webhook.objects.filter(namespace__name="crm_demo").exists()


def test_an_edit_reports_what_it_removed_and_the_algorithms_it_kept(staff):
    connector = generate(staff)
    edited = Algorithm.objects.get(namespace=connector.namespace, name="do_import_contact")
    edited.code += "\n# checked by hand\n"
    edited.save()
    wizard = Wizard(staff, f"{BASE}{connector.name}/edit/")
    for _ in ("name", "auth_type", "auth", "connection"):
        wizard.submit()
    assert wizard.step == "resources"
    wizard.submit({"resources-0-processes": ["import"]})  # export no more
    assert wizard.step == "review", errors_text(wizard)
    assert "create_contact" not in wizard.html.split('id="plan"')[1].split("</table>")[0]
    wizard.submit()
    assert 'class="completion"' in wizard.html, errors_text(wizard)
    removed = wizard.html.split('class="removed"', 1)[1].split("</ul>")[0]
    assert "create_contact" in removed and "handle_contact" in removed
    kept = wizard.html.split('class="kept"', 1)[1].split("</ul>")[0]
    assert "do_import_contact" in kept
    assert not Webhook.objects.filter(namespace=connector.namespace, name="create_contact").exists()
    assert "checked by hand" in Algorithm.objects.get(pk=edited.pk).code


def test_a_conflict_found_at_save_sends_the_user_back_to_its_step(staff, admin_user):
    wizard = Wizard(staff)
    walk_to_resources(wizard, name="crm_demo", auth={"type": "none"})
    fill_two_resources(wizard)
    generate(staff)  # meanwhile, in another tab: a connector of the same name
    wizard.submit()  # Save
    assert wizard.step == "name"
    assert "exists already" in wizard.errors_of("name-name")
    assert (
        Connector.objects.get(namespace__name="crm_demo").spec["resources"][0]["name"] == "contact"
    )


def test_forged_wizard_input_gets_a_page_not_a_crash(staff):
    wizard = Wizard(staff)
    wizard.submit({"name": "shop"})
    wizard.submit({"type": "bearer"})
    # A submit claiming its secret is "already encrypted" is taken as typed.
    wizard.submit({"token": "typed-token", "auth-__encrypted": "bearer"})
    assert wizard.step == "connection"
    wizard.submit(
        {"base_url": "http://127.0.0.1:9/api", "connection-parameters-TOTAL_FORMS": "many"},
        button=("formset_add", "connection-parameters"),
    )
    assert wizard.step == "connection"
    assert "ManagementForm data is missing or has been tampered with" in wizard.html
