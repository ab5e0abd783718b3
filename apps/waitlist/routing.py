"""Websocket routes of the waitlist (listed in config/asgi.py WEBSOCKET_ROUTES)."""

from django.urls import path

from .consumers import DriverConsumer

websocket_urlpatterns = [
    path("ws/waitlist/<str:signed>/", DriverConsumer.as_asgi()),
]
