from django.urls import path

from apps.core import panels

from . import views

app_name = "stations"

urlpatterns = [
    path("search/", views.SearchView.as_view(), name="search"),
    path("sites/", views.SiteListView.as_view(), name="site_list"),
    path("sites/new/", views.SiteCreateView.as_view(), name="site_create"),
    path("sites/<int:pk>/", views.SiteDetailView.as_view(), name="site_detail"),
    path("sites/<int:pk>/edit/", views.SiteEditView.as_view(), name="site_edit"),
    path("sites/<int:pk>/delete/", views.SiteDeleteView.as_view(), name="site_delete"),
    path("sites/<int:pk>/archive/", views.SiteArchiveView.as_view(), name="site_archive"),
    path(
        "sites/<int:pk>/restore/",
        views.SiteArchiveView.as_view(restore=True),
        name="site_restore",
    ),
    path("stations/", views.StationListView.as_view(), name="station_list"),
    path("stations/new/", views.StationRegisterView.as_view(), name="station_register"),
    path("stations/<int:pk>/", views.StationDetailView.as_view(), name="station_detail"),
    path("stations/<int:pk>/edit/", views.StationEditView.as_view(), name="station_edit"),
    path(
        "stations/<int:pk>/password/",
        views.StationPasswordView.as_view(),
        name="station_password",
    ),
    path("stations/<int:pk>/retire/", views.StationRetireView.as_view(), name="station_retire"),
    path("stations/<int:pk>/ports/new/", views.EvseCreateView.as_view(), name="evse_create"),
    path("ports/<int:pk>/edit/", views.EvseEditView.as_view(), name="evse_edit"),
    path("connectors/<int:pk>/edit/", views.ConnectorEditView.as_view(), name="connector_edit"),
    path(
        "stations/<int:pk>/message-limits/",
        views.StationMessageLimitsView.as_view(),
        name="station_message_limits",
    ),
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
] + panels.routes(app_name)  # views features add to stations (remote control)
