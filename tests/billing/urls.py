"""The tenant URLs with billing's routes added the way the lead wires them (config/urls.py and
apps/api/urls.py are not billing's files): portal under /billing/, API under /api/v1/billing/,
and the Stripe webhook (a public-schema URL in production)."""

from django.urls import include, path

from apps.billing import views
from config.urls import urlpatterns as tenant_urlpatterns

urlpatterns = [
    path("billing/stripe/webhook/", views.stripe_webhook, name="billing_stripe_webhook"),
    path("billing/", include("apps.billing.urls")),
    path("api/v1/", include(("apps.billing.api.urls", "billing_api"))),
    *tenant_urlpatterns,
]
