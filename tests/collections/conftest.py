"""Fixtures of the collections tests: a whole A → B → C integration to bundle and move."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from apps.collections.models import Collection
from apps.collections.services import collection_build
from apps.data.models import DataType, Namespace
from apps.data.services import data_type_save, records_save
from apps.gateway.models import Connection
from apps.gateway.services import connection_role_save, connection_save
from apps.security import services as security
from apps.workflows.models import Algorithm, Flow
from apps.workflows.services import element_save
from tests.workflows.integration import build_integration
from tests.workflows.systems import SystemA, SystemB

# Every secret the integration holds: none may appear in an export.
SECRETS = {
    "crm.system_b_token.token": "tok-7f3a9c1e5b",
    "crm.partner_client.client_secret": "cs-91be44d0aa",
    "crm.partner.refresh_token": "rt-0c6d2f7e19",
}
COUNTRY = {
    "type": "object",
    "required": ["code"],
    "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
}


@dataclass
class Integration:
    namespace: Namespace
    a: SystemA
    b: SystemB

    def flows(self) -> list[Flow]:
        return list(Flow.objects.filter(namespace=self.namespace))


@pytest.fixture
def systems():
    contacts = [
        {"id": i, "first": f"First{i}", "last": f"Last{i}", "email": f"c{i}@a.test"}
        for i in (1, 2, 3)
    ]
    a = SystemA(contacts).start()
    b = SystemB().start()
    yield a, b
    a.stop()
    b.stop()


def build_crm(namespace: Namespace, a_url: str, b_url: str) -> None:
    """Cenit's A → B → C in namespace crm, with secrets, algorithms calling each other by
    name, a connection role and a data type whose records travel too."""
    build_integration(namespace, a_url=a_url, b_url=b_url, schedule="every 1h")
    token = security.authorization_save(
        namespace=namespace,
        name="system_b_token",
        kind="bearer",
        token=SECRETS["crm.system_b_token.token"],
    )
    system_b = Connection.objects.get(namespace=namespace, name="system_b")
    connection_save(
        namespace=namespace, name="system_b", instance=system_b, authorization=token,
        base_url=b_url,
    )  # fmt: skip
    provider = security.authorization_provider_save(
        namespace=namespace, name="partner_provider", token_url="https://partner.test/oauth/token"
    )
    client = security.authorization_client_save(
        namespace=namespace,
        name="partner_client",
        provider=provider,
        client_id="partner-app",
        client_secret=SECRETS["crm.partner_client.client_secret"],
    )
    security.authorization_save(
        namespace=namespace,
        name="partner",
        kind="oauth2",
        client=client,
        grant_type="client_credentials",
        scopes="contacts.read",
        refresh_token=SECRETS["crm.partner.refresh_token"],
        access_token="at-not-exported-5d1c",
    )
    connection_role_save(
        namespace=namespace,
        name="both_systems",
        connections=list(Connection.objects.filter(namespace=namespace)),
    )
    element_save(
        model=Algorithm,
        namespace=namespace,
        name="country_name",
        parameters=[{"name": "code", "type": "string"}],
        code="found = api.records('Country').get(code)\nreturn found['name'] if found else None",
    )
    element_save(
        model=Algorithm,
        namespace=namespace,
        name="describe",
        parameters=[{"name": "code", "type": "string"}],
        code="return 'Country: ' + str(api.run('country_name', code=code))",
    )
    country = data_type_save(
        namespace=namespace, name="Country", schema=COUNTRY, primary_key="code"
    )
    records_save(
        data_type=country,
        records=[{"code": "FR", "name": "France"}, {"code": "AR", "name": "Argentina"}],
    )


def bundle(namespace: Namespace, name: str = "crm_sync") -> Collection:
    """The collection of the integration: the flows, the OAuth 2.0 authorization, the role,
    the algorithm ``describe`` and the countries with their records; the rest is pulled in."""
    from apps.gateway.models import ConnectionRole
    from apps.security.models import Authorization

    chosen = [
        *Flow.objects.filter(namespace=namespace),
        Authorization.objects.get(namespace=namespace, name="partner"),
        ConnectionRole.objects.get(namespace=namespace, name="both_systems"),
        Algorithm.objects.get(namespace=namespace, name="describe"),
    ]
    country = DataType.objects.get(namespace=namespace, name="Country")
    return collection_build(
        name=name,
        title="CRM sync",
        version="1.0.0",
        description="Contacts from system A to customers of system B.",
        authors=["Ann Smith <ann@example.com>"],
        elements=chosen,
        with_records=[country],
    ).collection


@pytest.fixture
def integration(namespace, systems) -> Integration:
    a, b = systems
    build_crm(namespace, a.url, b.url)
    return Integration(namespace, a, b)
