from django.urls import path

from . import views

app_name = "charging"

urlpatterns = [
    path("", views.SessionListView.as_view(), name="session_list"),
    path("export.csv", views.SessionExportView.as_view(), name="session_export"),
    path("<int:pk>/", views.SessionDetailView.as_view(), name="session_detail"),
]
