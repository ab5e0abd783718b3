from django.urls import re_path

from .consumer import OcppConsumer

websocket_urlpatterns = [
    # OCPP-J: the identity is the last path segment (percent-encoded, at most 48 characters).
    # Everything under ocpp/ goes to the consumer, which reads the identity from the raw path
    # and answers 404 for one that cannot be a station's (an encoded "/", NUL, "..").
    re_path(r"^ocpp/(?P<identity>[\s\S]*)$", OcppConsumer.as_asgi()),
]
