from django.apps import AppConfig


class RoamingConfig(AppConfig):
    name = "apps.roaming"
    label = "roaming"
    verbose_name = "Roaming (OCPI)"

    def ready(self) -> None:
        from apps.core import events, policies
        from apps.core.permissions import register

        from . import handlers, sessions, tariffs

        register("roaming.view", "See roaming partners, their tokens and what was exchanged")
        register("roaming.manage", "Connect, rotate and remove roaming partners")

        events.subscribe(events.STATUS_CHANGED, handlers.on_status_changed, in_transaction=True)
        events.subscribe(events.STATION_CONNECTED, handlers.on_station_link, in_transaction=True)
        events.subscribe(events.STATION_DISCONNECTED, handlers.on_station_link, in_transaction=True)
        events.subscribe(events.SESSION_STARTED, sessions.on_session_started, in_transaction=True)
        events.subscribe(
            events.METER_VALUES_RECEIVED, sessions.on_meter_values, in_transaction=True
        )
        events.subscribe(events.SESSION_ENDED, sessions.on_session_ended, in_transaction=True)
        events.subscribe(events.SESSION_PRICED, sessions.on_session_priced)
        events.subscribe(events.TARIFF_CHANGED, tariffs.on_tariff_changed, in_transaction=True)
        events.subscribe(events.SIGNED_METER_VALUES, sessions.on_signed_values, in_transaction=True)
        policies.register(policies.AUTHORIZATION, handlers.authorization)
        policies.register(policies.LOCAL_LIST_TOKENS, handlers.local_list_tokens)
