"""The Connector Factory pages, under /admin/connector-factory/ (staff only, the admin's look)."""

from django.contrib import admin
from django.urls import path

from . import views
from .wizard import ConnectorWizard, connector_saved

app_name = "connector_factory"

wizard = ConnectorWizard.as_view()


def _admin(view):
    return admin.site.admin_view(view)


urlpatterns = [
    path("", _admin(views.connector_list), name="index"),
    path("add/", _admin(wizard), name="add"),
    path("<str:name>/", _admin(views.connector_details), name="details"),
    path("<str:name>/edit/", _admin(wizard), name="edit"),
    path("<str:name>/saved/", _admin(connector_saved), name="saved"),
    path("<str:name>/delete/", _admin(views.connector_delete_view), name="delete"),
    path("<str:name>/import/<str:resource>/", _admin(views.connector_import), name="import"),
]
