from django.urls import path

from . import views

app_name = "roaming"

urlpatterns = [
    path("", views.PartnerListView.as_view(), name="partner_list"),
    path("add/", views.PartnerAddView.as_view(), name="partner_add"),
    path("<int:pk>/", views.PartnerDetailView.as_view(), name="partner_detail"),
    path("<int:pk>/action/", views.PartnerActionView.as_view(), name="partner_action"),
]
