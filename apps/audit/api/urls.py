from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("audit-log", views.AuditEntryViewSet, basename="auditentry")

urlpatterns = router.urls
