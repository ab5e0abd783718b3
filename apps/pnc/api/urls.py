from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("pnc/authority", views.CertificateAuthorityViewSet, basename="pncauthority")
router.register(
    "pnc/station-certificates", views.StationCertificateViewSet, basename="pncstationcertificate"
)
router.register("pnc/trusted-roots", views.TrustedRootViewSet, basename="pnctrustedroot")
router.register(
    "pnc/installed-certificates",
    views.InstalledCertificateViewSet,
    basename="pncinstalledcertificate",
)
router.register("pnc/stations", views.PncStationViewSet, basename="pncstation")
router.register("pnc/settings", views.PncSettingsViewSet, basename="pncsettings")

urlpatterns = router.urls
