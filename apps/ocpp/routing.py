from django.urls import re_path

from .consumer import OcppConsumer

websocket_urlpatterns = [
    # OCPP-J: the identity is the last path segment (percent-encoded, at most 48 characters).
    re_path(r"^ocpp/(?P<identity>[^/]+)/?$", OcppConsumer.as_asgi()),
]
