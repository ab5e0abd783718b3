from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
# Commands live under the stations' own URLs: /stations/{id}/reset/ ...
router.register("stations", views.StationCommandViewSet, basename="station-command")
router.register("ocpp-messages", views.MessageLogViewSet, basename="messagelog")
router.register("station-events", views.StationEventViewSet, basename="stationevent")

urlpatterns = router.urls
