from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("", views.WebhookListView.as_view(), name="webhook_list"),
    path("new/", views.WebhookCreateView.as_view(), name="webhook_create"),
    path("<int:pk>/", views.WebhookDetailView.as_view(), name="webhook_detail"),
    path("<int:pk>/edit/", views.WebhookEditView.as_view(), name="webhook_edit"),
    path("<int:pk>/delete/", views.WebhookDeleteView.as_view(), name="webhook_delete"),
    path("<int:pk>/ping/", views.WebhookPingView.as_view(), name="webhook_ping"),
    path(
        "<int:pk>/rotate-secret/",
        views.WebhookRotateSecretView.as_view(),
        name="webhook_rotate_secret",
    ),
    path("deliveries/", views.DeliveryListView.as_view(), name="delivery_list"),
    path("deliveries/<int:pk>/", views.DeliveryDetailView.as_view(), name="delivery_detail"),
    path(
        "deliveries/<int:pk>/redeliver/",
        views.DeliveryRedeliverView.as_view(),
        name="delivery_redeliver",
    ),
]
