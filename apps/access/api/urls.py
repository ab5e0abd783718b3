from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("access/groups", views.AccessGroupViewSet, basename="accessgroup")
router.register("access/rules", views.AccessRuleViewSet, basename="accessrule")
router.register("access/holidays", views.HolidayViewSet, basename="accessholiday")
router.register("access/stations", views.AccessExplainViewSet, basename="accessstation")

urlpatterns = router.urls
