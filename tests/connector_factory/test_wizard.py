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
from apps.gateway.models import Connection
from apps.security.models import Authorization
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
            self.fields[self._textarea][0] += data.lstrip("\n") if not self.fields[self._textarea][0] else data


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
        self._take(self.client.post(self.url, data))

    def errors_of(self, field: str) -> str:
        """The error list rendered in the row of ``field`` ('' if none)."""
        match = re.search(
            r'<div class="form-row field-[\w]+ errors"[^>]*>\s*<ul class="errorlist"[^>]*>(.*?)</ul>'
            r'(?:(?!<div class="form-row).)*?name="' + re.escape(field) + '"',
            self.html,
            re.S,
        )
        return re.sub(r"<[^>]+>", " ", match.group(1)) if match else ""

    def visible_pagination_groups(self, index: int = 0) -> list[str]:
        form = self.html.split(f'data-prefix="resources-{index}"', 1)[1].split("</fieldset>\n</fieldset>")[0]
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
            0, "contact", processes=["import", "export"], get_one_path="contacts/{{remote_id}}",
            get_many_path="contacts", records_path="data", pagination_type="page_number",
            create_path="contacts", update_path="contacts/{{remote_id}}", body_shape="wrapped",
            wrap_key="data", id_path="data[0].id", schedule="every 15m",
        )  # fmt: skip
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
            1, "deal", processes=["import"], get_one_path="deals/{{remote_id}}",
            get_many_path="deals", pagination_type="offset", primary_key="deal_id",
        )  # fmt: skip
    )
    assert wizard.visible_pagination_groups(1) == ["offset"]
    wizard.submit({"resources-1-offset__limit": "25", "resources-1-offset__total_path": "total"})
    assert wizard.step == "review", wizard.html


def test_walk_to_review(staff):
    wizard = Wizard(staff)
    walk_to_resources(wizard)
    fill_two_resources(wizard)
    open("/tmp/cfw/review.html", "w").write(wizard.html)
