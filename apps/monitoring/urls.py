from django.urls import path

from . import views

app_name = "monitoring"

urlpatterns = [
    path("", views.AlertListView.as_view(), name="alert_list"),
    path("subscription/", views.AlertSubscriptionView.as_view(), name="subscription"),
    path("uptime/", views.UptimeView.as_view(), name="uptime"),
]
