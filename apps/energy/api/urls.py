from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("energy-vens", views.VenViewSet, basename="energyven")
router.register("energy-events", views.DemandResponseEventViewSet, basename="energyevent")
router.register("bms-nodes", views.BmsNodeViewSet, basename="bmsnode")

urlpatterns = router.urls
