from django.urls import path

from . import views

app_name = "waitlist"

urlpatterns = [
    path("", views.GroupListView.as_view(), name="group_list"),
    path("new/", views.GroupFormView.as_view(), name="group_create"),
    path("<int:pk>/", views.GroupDetailView.as_view(), name="group_detail"),
    path("<int:pk>/edit/", views.GroupFormView.as_view(), name="group_edit"),
    path("entries/<int:pk>/remove/", views.EntryRemoveView.as_view(), name="entry_remove"),
    path("join/<str:signed>/", views.JoinView.as_view(), name="join"),
    path("d/<str:signed>/", views.DriverView.as_view(), name="driver"),
]
