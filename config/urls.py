"""URLs of a tenant: the portal, its API and the tenant's own admin."""

from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

from apps.core import views as core_views


def favicon(request):
    """The icon's static URL is resolved per request: in production it needs the collected
    manifest, which does not exist when the URLconf is imported (``check --deploy``)."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


urlpatterns = [
    path("", include("apps.core.urls")),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("apps.accounts.urls")),
    path("dashboard/", include("apps.dashboard.urls")),
    path("", include("apps.stations.urls")),
    path("sessions/", include("apps.charging.urls")),
    path("alerts/", include("apps.monitoring.urls")),
    path("people/", include("apps.roles.urls")),
    path("audit/", include("apps.audit.urls")),
    path("billing/", include("apps.billing.urls")),
    path("power/", include("apps.power.urls")),
    path("roaming/", include("apps.roaming.urls")),
    path("energy/", include("apps.energy.urls")),
    path("reports/", include("apps.reports.urls")),
    path("notifications/", include("apps.notifications.urls")),
    path("waitlist/", include("apps.waitlist.urls")),
    path("valet/", include("apps.valet.urls")),
    path("plans/", include("apps.plans.urls")),
    path("firmware/", include("apps.firmware.urls")),
    path("video/", include("apps.media.urls")),  # media (not /media/: MEDIA_URL)
    path("support/", include("apps.support.urls")),  # issue 20: support
    path("webhooks/", include("apps.webhooks.urls")),  # webhooks (issue 13 parity)
    path("drivers/", include("apps.drivers.urls")),  # issue 20: finder, driver accounts, tips
    path("access/", include("apps.access.urls")),  # access
    path("pnc/", include("apps.pnc.urls")),  # issue 14: Plug & Charge
    path("fleet/", include("apps.fleet.urls")),  # issue 14: fleets
    path("api/v1/", include("apps.api.urls")),
    path("ocpi/", include("apps.roaming.ocpi_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico on pages without the icon link (a 405, a JSON answer).
    path("favicon.ico", favicon),  # issue 13: tour
]
