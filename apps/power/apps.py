from django.apps import AppConfig


class PowerConfig(AppConfig):
    name = "apps.power"
    label = "power"
    verbose_name = "Power management"

    def ready(self) -> None:
        from apps.core import events, panels, policies
        from apps.core.permissions import register

        from . import handlers

        register("power.view", "See electrical trees, limits and the live allocation")
        register("power.manage", "Change electrical trees, limits and charging rules")
        events.subscribe(events.SESSION_STARTED, handlers.on_session_started)
        events.subscribe(events.SESSION_ENDED, handlers.on_stations_changed, batch=True)
        events.subscribe(events.STATUS_CHANGED, handlers.on_stations_changed, batch=True)
        events.subscribe(events.STATION_DISCONNECTED, handlers.on_stations_changed, batch=True)
        events.subscribe(events.METER_VALUES_RECEIVED, handlers.on_meter_values)
        events.subscribe(events.STATION_CONNECTED, handlers.on_stations_connected, batch=True)
        policies.register(policies.EV_CHARGING_NEEDS, handlers.ev_charging_needs)
        policies.register(policies.EV_CHARGING_SCHEDULE, handlers.ev_charging_schedule)
        policies.register(policies.SESSION_CURRENT_CAP, handlers.session_current_cap)  # roaming
        policies.register(policies.SESSION_CURRENT, handlers.session_current)  # roaming
        panels.register(
            panels.Panel(
                page=panels.SITE,
                slot="links",
                name="power.site_link",
                template_name="power/_site_link.html",
                permission="power.view",
            )
        )
