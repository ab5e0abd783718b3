from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "apps.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from apps.core import events, permissions, policies

        from . import handlers

        permissions.register("billing.view", "See tariffs, session costs, receipts and invoices")
        permissions.register(
            "billing.manage", "Set prices, taxes and bank details; refund; see payouts"
        )
        events.subscribe(events.SESSION_ENDED, handlers.on_session_ended)
        events.subscribe(events.STATION_CONNECTED, handlers.on_stations_online, batch=True)
        events.subscribe(events.STATION_BOOTED, handlers.on_stations_online, batch=True)
        events.subscribe(events.SESSION_UPDATED, handlers.on_session_updated)
        policies.register(policies.PRICE_INFO, handlers.price_info)
        policies.register(policies.SESSION_COST, handlers.session_cost)
        policies.register(policies.AUTHORIZATION, handlers.authorization)
        policies.register(policies.OCPI_CDR, handlers.ocpi_cdr)
        policies.register(policies.DRIVER_PRICE, handlers.driver_price)  # drivers
        policies.register(policies.SESSION_RECEIPTS, handlers.session_receipts)  # drivers
        policies.register(policies.OCPI_TARIFFS, handlers.ocpi_tariffs)  # roaming
        policies.register(policies.SESSION_RUNNING_COST, handlers.session_running_cost)  # roaming
        events.subscribe(  # waitlist: a fee exists only if the no-show did
            events.RESERVATION_NO_SHOW, handlers.on_reservation_no_show, in_transaction=True
        )
        policies.register(policies.SESSION_IDLE_FEES, handlers.session_idle_fees)  # valet
        policies.register(
            policies.OCPI_CONNECTOR_TARIFFS, handlers.ocpi_connector_tariffs
        )  # roaming
