from django.urls import path

from . import views

app_name = "plans"

urlpatterns = [
    path("", views.PlanOverviewView.as_view(), name="overview"),
    path("ports/<int:pk>/activate/", views.PortActivateView.as_view(), name="port_activate"),
    path("seats/<int:pk>/release/", views.PortReleaseView.as_view(), name="port_release"),
]
