from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "apps.access"
    label = "access"
    verbose_name = "Access control"

    def ready(self) -> None:
        from apps.core import events, permissions, policies

        from . import handlers

        permissions.register(
            "access.view", "See driver groups, access rules and why a card is refused"
        )
        permissions.register("access.manage", "Change driver groups, access rules and holidays")
        policies.register(policies.AUTHORIZATION, handlers.authorization)
        events.subscribe(events.STATION_CONNECTED, handlers.on_station_connected)
        events.subscribe(events.STATION_BOOTED, handlers.on_station_connected)
