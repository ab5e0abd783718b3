from django.urls import path

from . import views

app_name = "fleet"

urlpatterns = [
    path("", views.FleetListView.as_view(), name="fleet_list"),
    path("new/", views.FleetCreateView.as_view(), name="fleet_create"),
    path("<int:pk>/", views.FleetDetailView.as_view(), name="fleet_detail"),
    path("<int:pk>/edit/", views.FleetEditView.as_view(), name="fleet_edit"),
    path("<int:pk>/secret/", views.FleetSecretView.as_view(), name="fleet_secret"),
    path("<int:pk>/vehicles/new/", views.VehicleCreateView.as_view(), name="vehicle_create"),
    path("<int:pk>/cards/new/", views.CardCreateView.as_view(), name="card_create"),
    path("<int:pk>/telematics/", views.telematics_webhook, name="telematics"),
    path("vehicles/", views.VehicleListView.as_view(), name="vehicle_list"),
    path("vehicles/<int:pk>/", views.VehicleDetailView.as_view(), name="vehicle_detail"),
    path("vehicles/<int:pk>/edit/", views.VehicleEditView.as_view(), name="vehicle_edit"),
    path("cards/", views.CardListView.as_view(), name="card_list"),
    path("cards/<int:pk>/delete/", views.CardDeleteView.as_view(), name="card_delete"),
    path("usage/", views.UsageListView.as_view(), name="usage_list"),
    path("usage/transactions/", views.TransactionsExportView.as_view(), name="transactions"),
    path("export/<str:what>/", views.TableExportView.as_view(), name="export"),
    path("import/", views.ImportView.as_view(), name="import"),
]
