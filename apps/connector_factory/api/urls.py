"""Routes of /api/v2/connector_factory/ (before the record routes, which would match them)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("connector_factory/connector", views.ConnectorViewSet, basename="connector")

setup_urlpatterns = [
    path("connector_factory/schema/", views.SpecSchemaView.as_view(), name="connector-schema"),
    *router.urls,
]
