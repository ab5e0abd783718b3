from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("tokens", views.IdTokenViewSet, basename="token")
router.register("sessions", views.ChargingSessionViewSet, basename="session")
router.register("meter-values", views.MeterValueViewSet, basename="metervalue")

urlpatterns = router.urls
