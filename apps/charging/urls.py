from django.urls import path

from . import views

app_name = "charging"

urlpatterns = [
    path("", views.SessionListView.as_view(), name="session_list"),
    path("export.csv", views.SessionExportView.as_view(), name="session_export"),
    path("<int:pk>/", views.SessionDetailView.as_view(), name="session_detail"),
    path("tokens/", views.TokenListView.as_view(), name="token_list"),
    path("tokens/new/", views.TokenCreateView.as_view(), name="token_create"),
    path("tokens/<int:pk>/edit/", views.TokenEditView.as_view(), name="token_edit"),
    path("tokens/<int:pk>/delete/", views.TokenDeleteView.as_view(), name="token_delete"),
]
