from django.urls import path

from . import views

app_name = "firmware"

urlpatterns = [
    path("", views.CampaignListView.as_view(), name="campaign_list"),
    path("campaigns/new/", views.CampaignCreateView.as_view(), name="campaign_create"),
    path("images/new/", views.FirmwareImageUploadView.as_view(), name="firmwareimage_upload"),
    path("campaigns/<int:pk>/", views.CampaignDetailView.as_view(), name="campaign_detail"),
    path(
        "campaigns/<int:pk>/<slug:action>/",
        views.CampaignActionView.as_view(),
        name="campaign_action",
    ),
]
