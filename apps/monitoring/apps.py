from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "apps.monitoring"
    label = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self) -> None:
        from apps.core import events
        from apps.core.permissions import register

        from . import handlers, panels, urls

        register("alerts.manage", "Acknowledge and resolve alerts")
        panels.register_panels()
        urls.register_station_routes()

        events.subscribe(events.STATUS_CHANGED, handlers.on_status_changed)
        events.subscribe(events.STATION_CONNECTED, handlers.on_stations_connected, batch=True)
