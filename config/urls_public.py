"""URLs of the public schema: the landing / sign-in finder and the platform operator's admin."""

from django.contrib import admin
from django.urls import include, path

from apps.billing import views as billing_views
from apps.core import views as core_views
from apps.drivers import shared as drivers_shared
from apps.firmware import views as firmware_views
from apps.media import views as media_views
from apps.support import inbound as support_inbound
from apps.support import platform as support_platform
from apps.tenants import views as tenant_views

urlpatterns = [
    path("", tenant_views.LandingView.as_view(), name="landing"),
    path("healthz", core_views.healthz, name="healthz"),
    # One endpoint for every tenant: the tenant is read from the signed event.
    path("billing/stripe/webhook/", billing_views.stripe_webhook, name="stripe_webhook"),
    # Stations fetch firmware here: the expiring link names its tenant.
    path(
        "firmware/download/<str:token>/<str:name>",
        firmware_views.firmware_download,
        name="firmware_download",
    ),
    # Screens fetch their manifests and media here (expiring links that name their tenant).
    path("media/manifest/<str:token>.json", media_views.media_manifest, name="media_manifest"),
    path("media/asset/<str:token>/<str:name>", media_views.media_asset, name="media_asset"),
    # Inbound e-mail for support cases, one route for every tenant (the reply address names it).
    path(
        "support/inbound/<str:provider>/", support_inbound.inbound_webhook, name="support_inbound"
    ),
    # The platform operator's support desk: cases of every tenant (public-schema staff).
    path("platform/support/", support_platform.case_list, name="platform_support"),
    path(
        "platform/support/<slug:slug>/<int:pk>/",
        support_platform.case_detail,
        name="platform_support_case",
    ),
    path(
        "platform/support/<slug:slug>/<int:pk>/reply/",
        support_platform.case_reply,
        name="platform_support_reply",
    ),
    path(
        "platform/support/<slug:slug>/<int:pk>/update/",
        support_platform.case_update,
        name="platform_support_update",
    ),
    path(
        "platform/support/<slug:slug>/<int:pk>/attachments/<int:attachment_id>/",
        support_platform.attachment,
        name="platform_support_attachment",
    ),
    # The platform's shared station finder: sites every network chose to share (issue 20).
    path("finder/", drivers_shared.shared_finder, name="shared_finder"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
