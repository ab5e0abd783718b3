from django.apps import AppConfig


class FleetConfig(AppConfig):
    name = "apps.fleet"
    label = "fleet"
    verbose_name = "Fleets"

    def ready(self) -> None:
        from apps.core import events, policies
        from apps.core.permissions import register

        from . import handlers

        register("fleet.view", "See fleets, vehicles, cards, usage and telemetry")
        register("fleet.manage", "Change fleets, vehicles and cards; import them")
        register("fleet.all", "See every fleet of one's sites, not only the fleets one manages")
        events.subscribe(events.SESSION_STARTED, handlers.on_session_started)
        events.subscribe(events.SESSION_ENDED, handlers.on_session_ended)
        policies.register(policies.TOKEN_MEMBERSHIPS, handlers.token_memberships)
        policies.register(policies.MEMBER_TOKENS, handlers.member_tokens)
        policies.register(policies.SESSION_VEHICLES, handlers.session_vehicles)  # reports
