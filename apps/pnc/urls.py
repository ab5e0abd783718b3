from django.urls import path

from . import views

app_name = "pnc"

urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("roots/new/", views.RootCreateView.as_view(), name="root_create"),
    path("roots/<int:pk>/delete/", views.RootDeleteView.as_view(), name="root_delete"),
    path("stations/", views.StationFindView.as_view(), name="station_find"),
    path(
        "stations/<int:pk>/", views.StationCertificatesView.as_view(), name="station_certificates"
    ),
    path("stations/<int:pk>/install/", views.StationInstallView.as_view(), name="station_install"),
    path("stations/<int:pk>/refresh/", views.StationRefreshView.as_view(), name="station_refresh"),
    path(
        "installed/<int:pk>/delete/", views.InstalledDeleteView.as_view(), name="installed_delete"
    ),
    path("settings/", views.SettingsEditView.as_view(), name="settings_edit"),
]
