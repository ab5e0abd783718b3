"""The staff API's router (``APP_ROUTERS``, under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("drivers/listings", views.FinderListingViewSet, basename="listing")
router.register("drivers/tips", views.TipViewSet, basename="tip")

urlpatterns = router.urls
