from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DriversConfig(AppConfig):
    name = "apps.drivers"
    label = "drivers"
    verbose_name = _("Drivers")

    def ready(self) -> None:
        from apps.core import events
        from apps.core.permissions import register

        from . import handlers

        register("drivers.view", "See the public finder's listings and the tips drivers leave")
        register("drivers.manage", "Publish sites in the public finder and moderate tips")
        for name in (
            events.STATUS_CHANGED,
            events.STATION_CONNECTED,
            events.STATION_DISCONNECTED,
            events.STATION_BOOTED,
        ):
            events.subscribe(name, handlers.on_stations_changed, batch=True)
        events.subscribe(events.SESSION_STARTED, handlers.on_session_started)
