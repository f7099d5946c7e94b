from rest_framework.routers import SimpleRouter

from .views import ConnectionRoleViewSet, ConnectionViewSet, RequestLogViewSet, WebhookViewSet

router = SimpleRouter()
router.register("setup/connection", ConnectionViewSet, basename="connection")
router.register("setup/connection_role", ConnectionRoleViewSet, basename="connection_role")
router.register("setup/webhook", WebhookViewSet, basename="webhook")
router.register("setup/request_log", RequestLogViewSet, basename="request_log")

setup_urlpatterns = router.urls
