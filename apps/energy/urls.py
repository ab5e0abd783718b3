from django.urls import path

from . import views

app_name = "energy"

urlpatterns = [
    path("events/", views.EventListView.as_view(), name="event_list"),
    path("events/<int:pk>/opt/", views.EventOptView.as_view(), name="event_opt"),
]
