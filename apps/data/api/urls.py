from django.urls import path
from rest_framework.routers import SimpleRouter

from .records import RecordDetailView, RecordListView
from .views import DataTypeViewSet, NamespaceViewSet

router = SimpleRouter()
router.register("setup/namespace", NamespaceViewSet, basename="namespace")
router.register("setup/data_type", DataTypeViewSet, basename="data_type")

# Record routes are added last by config/api_urls.py, after every app's setup routes.
setup_urlpatterns = router.urls
record_urlpatterns = [
    path("<str:namespace>/<str:data_type>/", RecordListView.as_view(), name="record-list"),
    path(
        "<str:namespace>/<str:data_type>/<path:key>/",
        RecordDetailView.as_view(),
        name="record-detail",
    ),
]
