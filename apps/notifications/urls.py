from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("push/<str:signed>/", views.push_subscribe, name="push_subscribe"),
]
