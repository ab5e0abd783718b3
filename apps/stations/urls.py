from django.urls import path

from . import views

app_name = "stations"

urlpatterns = [
    path("sites/", views.SiteListView.as_view(), name="site_list"),
    path("sites/<int:pk>/", views.SiteDetailView.as_view(), name="site_detail"),
    path("stations/", views.StationListView.as_view(), name="station_list"),
    path("stations/<int:pk>/", views.StationDetailView.as_view(), name="station_detail"),
    path(
        "stations/<int:pk>/live/",
        views.StationLiveFragmentView.as_view(),
        name="station_live_fragment",
    ),
    path(
        "stations/<int:pk>/messages/",
        views.StationMessageLogView.as_view(),
        name="station_messages",
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
        "stations/<int:pk>/start/",
        views.SessionRemoteStartView.as_view(),
        name="station_remote_start",
    ),
    path(
        "stations/<int:pk>/stop/",
        views.SessionRemoteStopView.as_view(),
        name="station_remote_stop",
    ),
]
