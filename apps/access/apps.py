from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "apps.access"
    label = "access"
    verbose_name = "Access control"

    def ready(self) -> None:
        from apps.core import events, panels, permissions, policies

        from . import handlers
        from . import panels as access_panels

        permissions.register(
            "access.view", "See driver groups, access rules and why a card is refused"
        )
        permissions.register("access.manage", "Change driver groups, access rules and holidays")
        policies.register(policies.AUTHORIZATION, handlers.authorization)
        events.subscribe(events.STATION_CONNECTED, handlers.on_stations_connected, batch=True)
        events.subscribe(events.STATION_BOOTED, handlers.on_stations_connected, batch=True)
        panels.register(
            panels.Panel(
                page=panels.STATION,
                slot="facts",
                name="access.station_access",
                template_name="access/_station_panel.html",
                permission="access.view",
                context=access_panels.station_access_panel,
            )
        )
