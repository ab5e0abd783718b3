from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("firmware/images", views.FirmwareImageViewSet, basename="firmwareimage")
router.register("firmware/campaigns", views.CampaignViewSet, basename="campaign")

urlpatterns = router.urls
