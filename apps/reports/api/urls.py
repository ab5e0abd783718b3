from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("reports/sites", views.SiteReportViewSet, basename="sitereport")
router.register("reports/stations", views.StationReportViewSet, basename="stationreport")
router.register("reports/ports", views.PortReportViewSet, basename="portreport")

urlpatterns = router.urls
