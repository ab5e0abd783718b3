from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("media/screens", views.ScreenModelViewSet, basename="screenmodel")
router.register("media/assets", views.MediaAssetViewSet, basename="mediaasset")
router.register("media/playlists", views.PlaylistViewSet, basename="playlist")
router.register("media/schedules", views.MediaScheduleViewSet, basename="mediaschedule")
router.register("media/deliveries", views.MediaDeliveryViewSet, basename="mediadelivery")

urlpatterns = router.urls
