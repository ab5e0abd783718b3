from django.urls import path

from . import views

app_name = "pnc"

urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("roots/new/", views.RootCreateView.as_view(), name="root_create"),
    path("roots/<int:pk>/delete/", views.RootDeleteView.as_view(), name="root_delete"),
]
