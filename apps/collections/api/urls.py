from rest_framework.routers import SimpleRouter

from .views import CollectionViewSet

router = SimpleRouter()
router.register("setup/collection", CollectionViewSet, basename="collection")

setup_urlpatterns = router.urls
