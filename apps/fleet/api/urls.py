from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("fleet/fleets", views.FleetViewSet, basename="fleet")
router.register("fleet/vehicles", views.VehicleViewSet, basename="vehicle")
router.register("fleet/cards", views.FleetCardViewSet, basename="fleetcard")
router.register("fleet/usage", views.UsageViewSet, basename="fleetusage")
router.register("fleet/telemetry", views.TelemetryViewSet, basename="fleettelemetry")

urlpatterns = router.urls
