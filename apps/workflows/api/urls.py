from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("setup/algorithm", views.AlgorithmViewSet, basename="algorithm")
router.register("setup/translator", views.TranslatorViewSet, basename="translator")
router.register("setup/observer", views.ObserverViewSet, basename="observer")
router.register("setup/scheduler", views.SchedulerViewSet, basename="scheduler")
router.register("setup/flow", views.FlowViewSet, basename="flow")
router.register("setup/task", views.TaskViewSet, basename="task")
router.register("setup/notification", views.NotificationViewSet, basename="notification")

setup_urlpatterns = router.urls
