from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("billing/tariffs", views.TariffViewSet, basename="tariff")
router.register(
    "billing/tariff-assignments", views.TariffAssignmentViewSet, basename="tariffassignment"
)
router.register("billing/session-costs", views.SessionCostViewSet, basename="sessioncost")
router.register("billing/payouts", views.PayoutViewSet, basename="payout")
router.register("billing/stations", views.StationPriceViewSet, basename="stationprice")
router.register("billing/sessions", views.SessionReceiptViewSet, basename="sessionreceipt")
router.register("billing/tax-rates", views.TaxRateViewSet, basename="taxrate")
router.register("billing/profiles", views.BillingProfileViewSet, basename="billingprofile")

urlpatterns = [
    *router.urls,
    path(
        "billing/pricing-wizard/", views.PricingWizardView.as_view(), name="billing_pricing_wizard"
    ),
]
