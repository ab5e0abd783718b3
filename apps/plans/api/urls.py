from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("plans/orders", views.PlanOrderViewSet, basename="planorder")
router.register("plans/ports", views.PortActivationViewSet, basename="portactivation")

urlpatterns = router.urls
