from django.urls import path

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
