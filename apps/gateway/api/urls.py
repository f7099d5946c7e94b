from rest_framework.routers import SimpleRouter

from .views import ConnectionRoleViewSet, ConnectionViewSet, WebhookViewSet

router = SimpleRouter()
router.register("setup/connection", ConnectionViewSet, basename="connection")
router.register("setup/connection_role", ConnectionRoleViewSet, basename="connection_role")
router.register("setup/webhook", WebhookViewSet, basename="webhook")

setup_urlpatterns = router.urls
