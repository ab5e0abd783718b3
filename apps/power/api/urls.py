from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("power-nodes", views.PowerNodeViewSet, basename="powernode")
router.register("power-limits", views.LimitOverrideViewSet, basename="powerlimit")
router.register("power-allocations", views.EvseAllocationViewSet, basename="powerallocation")
router.register("power-alerts", views.PowerAlertViewSet, basename="poweralert")

urlpatterns = router.urls
