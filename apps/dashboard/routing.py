"""Websocket routes of the portal (listed in config/asgi.py WEBSOCKET_ROUTES)."""

from django.urls import path

from .consumers import LiveConsumer

websocket_urlpatterns = [
    path("ws/live/", LiveConsumer.as_asgi()),
]
