from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("roles", views.RoleViewSet, basename="role")
router.register("role-assignments", views.RoleAssignmentViewSet, basename="roleassignment")
router.register("api-keys", views.ApiKeyViewSet, basename="apikey")

urlpatterns = router.urls
