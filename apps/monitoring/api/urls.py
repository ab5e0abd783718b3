from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("alerts", views.AlertViewSet, basename="alert")
router.register("bulk-commands", views.BulkCommandViewSet, basename="bulk-command")

urlpatterns = router.urls
