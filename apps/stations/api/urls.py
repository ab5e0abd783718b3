from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("sites", views.SiteViewSet, basename="site")
router.register("stations", views.StationViewSet, basename="station")
router.register("evses", views.EvseViewSet, basename="evse")
router.register("connectors", views.ConnectorViewSet, basename="connector")
router.register("status-changes", views.StatusChangeViewSet, basename="statuschange")

urlpatterns = router.urls
