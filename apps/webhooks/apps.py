from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from apps.core import events
        from apps.core.permissions import register

        from . import handlers

        register("webhooks.view", "See webhooks and their delivery log")
        register("webhooks.manage", "Create, change and delete webhooks")

        events.subscribe(events.STATUS_CHANGED, handlers.on_station_events, batch=True)
        events.subscribe(events.STATION_CONNECTED, handlers.on_station_events, batch=True)
        events.subscribe(events.STATION_DISCONNECTED, handlers.on_station_events, batch=True)
        events.subscribe(events.SESSION_STARTED, handlers.on_session)
        events.subscribe(events.SESSION_ENDED, handlers.on_session)
        events.subscribe(events.ALERT_RAISED, handlers.on_alert, in_transaction=True)
        events.subscribe(events.ALERT_CLEARED, handlers.on_alert, in_transaction=True)
        events.subscribe(events.VEHICLE_SESSION_STARTED, handlers.on_feature_event)
        events.subscribe(events.VEHICLE_SESSION_ENDED, handlers.on_feature_event)
