"""The data admin under namespace permissions (test client; the browser test covers editing)."""

import pytest

from apps.data.models import Namespace, Record
from apps.data.services import data_type_save, records_save


@pytest.fixture
def records(namespace):
    data_type = data_type_save(namespace=namespace, name="Contact", schema={"type": "object"})
    records_save(data_type=data_type, records=[{"id": 1, "secret_note": "crm-only"}])
    other = Namespace.objects.create(name="hr")
    payroll = data_type_save(namespace=other, name="Salary", schema={"type": "object"})
    records_save(data_type=payroll, records=[{"id": 9, "amount": "hr-only"}])
    return data_type, payroll


def staff(make_user, name):
    return make_user(name, is_staff=True)


def test_viewer_sees_only_their_namespace_and_cannot_change(client, make_user, grant, records):
    contact, payroll = records
    viewer = staff(make_user, "viewer")
    grant(viewer, contact.namespace)
    client.force_login(viewer)
    listing = client.get("/admin/data/record/")
    assert listing.status_code == 200
    assert "crm-only" in listing.content.decode() and "hr-only" not in listing.content.decode()
    mine = Record.objects.get(data_type=contact)
    theirs = Record.objects.get(data_type=payroll)
    page = client.get(f"/admin/data/record/{mine.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.get(f"/admin/data/record/{theirs.pk}/change/").status_code in (302, 404)
    assert client.get("/admin/data/record/add/").status_code == 403
    changed = client.post(
        f"/admin/data/record/{mine.pk}/change/", {"data_type": contact.pk, "data": '{"id": 1}'}
    )
    assert changed.status_code == 403
    assert Record.objects.get(pk=mine.pk).data["secret_note"] == "crm-only"


def test_editor_adds_records_only_where_allowed(client, make_user, grant, records):
    contact, payroll = records
    editor = staff(make_user, "editor")
    grant(editor, contact.namespace, change=True)
    client.force_login(editor)
    form = client.get("/admin/data/record/add/").content.decode()
    assert "crm.Contact" in form and "hr.Salary" not in form
    refused = client.post("/admin/data/record/add/", {"data_type": payroll.pk, "data": '{"id": 5}'})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    added = client.post("/admin/data/record/add/", {"data_type": contact.pk, "data": '{"id": 5}'})
    assert added.status_code == 302
    assert Record.objects.filter(data_type=contact, key="5").exists()
    assert not Record.objects.filter(data_type=payroll, key="5").exists()


def test_stranger_sees_no_data(client, make_user, records):
    client.force_login(staff(make_user, "stranger"))
    assert client.get("/admin/data/record/").status_code == 403
    assert client.get("/admin/data/datatype/").status_code == 403


def test_json_syntax_errors_say_where(client, admin_user, records):
    contact, _ = records
    client.force_login(admin_user)
    page = client.post(
        "/admin/data/record/add/", {"data_type": contact.pk, "data": '{"id": 1,\n "x": }'}
    )
    assert "Invalid JSON at line 2, column 7: Expecting value." in page.content.decode()


def test_namespace_permissions_are_granted_in_the_admin(client, admin_user, make_user, records):
    contact, _ = records
    namespace = contact.namespace
    bob = make_user("bob", is_staff=True)
    client.force_login(admin_user)
    change = client.get(f"/admin/data/namespace/{namespace.pk}/change/").content.decode()
    assert f"/admin/data/namespace/{namespace.pk}/permissions/" in change  # the button
    page = client.get(f"/admin/data/namespace/{namespace.pk}/permissions/user-manage/{bob.pk}/")
    assert page.status_code == 200
    granted = client.post(
        f"/admin/data/namespace/{namespace.pk}/permissions/user-manage/{bob.pk}/",
        {"permissions": ["view_namespace"]},
    )
    assert granted.status_code == 302
    client.force_login(bob)
    listing = client.get("/admin/data/record/").content.decode()
    assert "crm-only" in listing and "hr-only" not in listing


def test_the_admin_warns_when_stored_records_no_longer_fit_a_changed_schema(client, admin_user):
    from apps.data.models import DataType, Namespace, Record
    from apps.data.services import data_type_save, records_save

    client.force_login(admin_user)
    namespace = Namespace.objects.create(name="shop")
    item = data_type_save(namespace=namespace, name="Item", schema={"type": "object"})
    records_save(data_type=item, records=[{"id": 1, "sku": "a"}, {"id": 2}])
    page = client.post(
        f"/admin/data/datatype/{item.pk}/change/",
        {"namespace": namespace.pk, "name": "Item", "title": "", "primary_key": "id",
         "new_key_prefix": "", "schema": '{"type": "object", "required": ["sku"]}'},
        follow=True,
    )  # fmt: skip
    assert page.status_code == 200
    text = page.content.decode()
    assert DataType.objects.get(pk=item.pk).schema["required"] == ["sku"]
    assert "1 of 2 stored record(s) of shop.Item no longer fit its schema" in text
    assert Record.objects.count() == 2
