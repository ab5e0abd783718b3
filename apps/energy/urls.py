from django.urls import path

from . import views

app_name = "energy"

urlpatterns = [
    path("events/", views.EventListView.as_view(), name="event_list"),
    path("events/<int:pk>/opt/", views.EventOptView.as_view(), name="event_opt"),
    path("vens/new/", views.VenFormView.as_view(), name="ven_create"),
    path("vens/<int:pk>/", views.VenFormView.as_view(), name="ven_edit"),
    path("vens/<int:pk>/delete/", views.VenDeleteView.as_view(), name="ven_delete"),
    path("vens/<int:pk>/test/", views.VenTestView.as_view(), name="ven_test"),
]
