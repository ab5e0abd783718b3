from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("waitlist/groups", views.WaitlistGroupViewSet, basename="waitlistgroup")
router.register("waitlist/entries", views.WaitlistEntryViewSet, basename="waitlistentry")

urlpatterns = router.urls
