"""Websocket routes of the drivers' side (listed in config/asgi.py WEBSOCKET_ROUTES)."""

from django.urls import path

from .live import FinderConsumer

websocket_urlpatterns = [
    path("ws/drivers/finder/", FinderConsumer.as_asgi()),
]
