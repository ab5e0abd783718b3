"""Websocket routes served by the core (apps add theirs in config/asgi.py WEBSOCKET_ROUTES)."""

websocket_urlpatterns: list = []
