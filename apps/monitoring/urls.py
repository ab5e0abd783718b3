from django.urls import path

from apps.core import panels

from . import views

app_name = "monitoring"

urlpatterns = [
    path("", views.AlertListView.as_view(), name="alert_list"),
    path("<int:pk>/", views.AlertDetailView.as_view(), name="alert_detail"),
    path("<int:pk>/acknowledge/", views.AlertAcknowledgeView.as_view(), name="alert_acknowledge"),
    path("<int:pk>/resolve/", views.AlertResolveView.as_view(), name="alert_resolve"),
    path("subscription/", views.AlertSubscriptionView.as_view(), name="subscription"),
    path("uptime/", views.UptimeView.as_view(), name="uptime"),
]


# Remote control acts on the core's station page: these keep the stations app's URLs and names
# (``stations:station_reset`` ...), added to its URLconf by registration (apps.core.panels).
STATION_ROUTES = [
    path("stations/bulk/", views.StationBulkCommandView.as_view(), name="bulk_command"),
    path(
        "stations/bulk/<int:pk>/",
        views.BulkCommandDetailView.as_view(),
        name="bulk_command_detail",
    ),
    path("stations/<int:pk>/reset/", views.StationResetView.as_view(), name="station_reset"),
    path("stations/<int:pk>/unlock/", views.StationUnlockView.as_view(), name="station_unlock"),
    path(
        "stations/<int:pk>/availability/",
        views.StationAvailabilityView.as_view(),
        name="station_availability",
    ),
    path("stations/<int:pk>/trigger/", views.StationTriggerView.as_view(), name="station_trigger"),
    path(
        "stations/<int:pk>/configuration/",
        views.StationConfigurationReadView.as_view(),
        name="station_configuration_read",
    ),
    path(
        "stations/<int:pk>/configuration/change/",
        views.StationConfigurationChangeView.as_view(),
        name="station_configuration_change",
    ),
    path(
        "stations/<int:pk>/password/rotate/",
        views.StationPasswordRotateView.as_view(),
        name="station_password_rotate",
    ),
    path(
        "stations/<int:pk>/start/",
        views.SessionRemoteStartView.as_view(),
        name="station_remote_start",
    ),
    path(
        "stations/<int:pk>/stop/",
        views.SessionRemoteStopView.as_view(),
        name="station_remote_stop",
    ),
    *[
        path(f"stations/<int:pk>/{slug}/", view.as_view(), name=f"station_{view.form_name}")
        for slug, view in (
            ("reserve", views.StationReserveView),
            ("reservation/cancel", views.StationCancelReservationView),
            ("charging-profile", views.StationChargingProfileSetView),
            ("charging-profile/clear", views.StationChargingProfileClearView),
            ("composite-schedule", views.StationCompositeScheduleView),
            ("local-list/version", views.StationLocalListVersionView),
            ("local-list", views.StationLocalListSendView),
            ("logs", views.StationLogsUploadView),
            ("firmware-update", views.StationFirmwareUpdateView),
            ("display-message", views.StationDisplayMessageView),
            ("display-messages", views.StationDisplayMessagesGetView),
            ("display-message/clear", views.StationDisplayMessageClearView),
            ("data-transfer", views.StationDataTransferView),
            ("report", views.StationReportRequestView),
        )
    ],
]


def register_station_routes() -> None:
    for route in STATION_ROUTES:
        panels.register_route("stations", route)
