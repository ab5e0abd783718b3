from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "apps.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from apps.core import events, permissions

        from . import handlers

        permissions.register("reports.view", "See energy, use, uptime and revenue reports")
        permissions.register(
            "reports.manage",
            "Change the report rules: uptime definition, raw retention, greenhouse gas factors",
        )
        events.subscribe(events.METER_VALUES_RECEIVED, handlers.on_core_change)
        events.subscribe(events.STATUS_CHANGED, handlers.on_core_changes, batch=True)
        events.subscribe(events.STATION_CONNECTED, handlers.on_core_changes, batch=True)
        events.subscribe(events.STATION_DISCONNECTED, handlers.on_core_changes, batch=True)
        events.subscribe(events.SESSION_STARTED, handlers.on_session_changed)
        events.subscribe(events.SESSION_ENDED, handlers.on_session_changed)
