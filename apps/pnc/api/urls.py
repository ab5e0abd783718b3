from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("pnc/authority", views.CertificateAuthorityViewSet, basename="pncauthority")
router.register(
    "pnc/station-certificates", views.StationCertificateViewSet, basename="pncstationcertificate"
)
router.register("pnc/trusted-roots", views.TrustedRootViewSet, basename="pnctrustedroot")

urlpatterns = router.urls
