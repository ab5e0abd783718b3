from django.urls import path

from . import views

app_name = "power"

urlpatterns = [
    path("sites/<int:pk>/", views.SitePowerView.as_view(), name="site_power"),
    path("sites/<int:pk>/nodes/add/", views.NodeCreateView.as_view(), name="node_create"),
    path("sites/<int:pk>/stations/", views.StationNodeView.as_view(), name="station_node"),
    path("nodes/<int:pk>/", views.NodeDetailView.as_view(), name="node_detail"),
    path("nodes/<int:pk>/edit/", views.NodeEditView.as_view(), name="node_edit"),
    path("nodes/<int:pk>/delete/", views.NodeDeleteView.as_view(), name="node_delete"),
    path("nodes/<int:pk>/limit/", views.NodeLimitView.as_view(), name="node_limit"),
    path("limits/<int:pk>/end/", views.LimitEndView.as_view(), name="limit_end"),
    path("evses/<int:pk>/wiring/", views.EvseWiringView.as_view(), name="evse_wiring"),
]
