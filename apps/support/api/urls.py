from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("support/cases", views.CaseViewSet, basename="case")
router.register("support/canned-answers", views.CannedAnswerViewSet, basename="cannedanswer")
router.register("support/settings", views.SupportSettingsViewSet, basename="supportsettings")

urlpatterns = router.urls
