from django.urls import path

from . import views

app_name = "power"

urlpatterns = [
    path("sites/<int:pk>/", views.SitePowerView.as_view(), name="site_power"),
    path("nodes/<int:pk>/", views.NodeDetailView.as_view(), name="node_detail"),
    path("nodes/<int:pk>/limit/", views.NodeLimitView.as_view(), name="node_limit"),
]
