"""``/api/v1/``: one router per app, assembled here, with the schema and its documentation."""

from django.urls import include, path, re_path

from . import views

app_name = "api"

APP_ROUTERS = [
    "apps.stations.api.urls",
    "apps.ocpp.api.urls",
    "apps.charging.api.urls",
    "apps.roles.api.urls",
    "apps.audit.api.urls",
    "apps.webhooks.api.urls",
    "apps.power.api.urls",
    "apps.energy.api.urls",
    "apps.billing.api.urls",
    "apps.monitoring.api.urls",
    "apps.roaming.api.urls",
    "apps.reports.api.urls",
    "apps.waitlist.api.urls",
    "apps.plans.api.urls",
    "apps.firmware.api.urls",
    "apps.media.api.urls",  # media
    "apps.support.api.urls",  # support (issue 20)
    "apps.drivers.api.urls",  # issue 20: finder listings, tip moderation
    "apps.access.api.urls",  # access
    "apps.pnc.api.urls",  # pnc (issue 14, Plug & Charge)
    "apps.fleet.api.urls",  # fleet (issue 14)
]

urlpatterns = [
    *[path("", include(module)) for module in APP_ROUTERS],
    path("me/", views.MeView.as_view(), name="me"),
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.DocsView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^.*$", views.not_found, name="not_found"),
]
