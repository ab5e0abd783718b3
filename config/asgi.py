"""ASGI entry point: HTTP goes to Django, websockets to Channels consumers.

Each app that serves websockets exposes ``websocket_urlpatterns`` in its ``routing.py`` and is
listed in WEBSOCKET_ROUTES below.
"""

import gc
import os
from importlib import import_module

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

WEBSOCKET_ROUTES = [
    "apps.core.routing",
    "apps.ocpp.routing",
    "apps.dashboard.routing",
    "apps.drivers.routing",  # issue 20: the public finder's live feed
    "apps.waitlist.routing",  # waitlist: the driver page's live place
]


def _websocket_patterns() -> list:
    patterns: list = []
    for module in WEBSOCKET_ROUTES:
        patterns += import_module(module).websocket_urlpatterns
    return patterns


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(_websocket_patterns()),
    }
)

# Everything imported so far (Django, the apps and their libraries) lives as long as the process:
# move it out of the collector's generations so that full collections, which pause every
# socket of the process, only walk objects made since (tens of ms less per pass).
gc.freeze()
