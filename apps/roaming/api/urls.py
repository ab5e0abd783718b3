from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("roaming/partners", views.PartnerViewSet, basename="roamingpartner")
router.register("roaming/tokens", views.RemoteTokenViewSet, basename="roamingtoken")
router.register("roaming/pushes", views.PushViewSet, basename="roamingpush")
router.register("roaming/commands", views.RemoteCommandViewSet, basename="roamingcommand")

urlpatterns = router.urls
