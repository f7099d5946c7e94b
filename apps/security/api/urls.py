from rest_framework.routers import SimpleRouter

from .views import AuthorizationClientViewSet, AuthorizationProviderViewSet, AuthorizationViewSet

router = SimpleRouter()
router.register("setup/authorization", AuthorizationViewSet, basename="authorization")
router.register(
    "setup/authorization_client", AuthorizationClientViewSet, basename="authorization_client"
)
router.register(
    "setup/authorization_provider", AuthorizationProviderViewSet, basename="authorization_provider"
)

setup_urlpatterns = router.urls
