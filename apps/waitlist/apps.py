from django.apps import AppConfig


class WaitlistConfig(AppConfig):
    name = "apps.waitlist"
    label = "waitlist"
    verbose_name = "Waitlist"

    def ready(self) -> None:
        from apps.core import events, panels, policies
        from apps.core.permissions import register

        from . import handlers, selectors, services, views
        from . import panels as waitlist_panels

        register("waitlist.view", "See queues and the drivers waiting in them")
        register("waitlist.manage", "Define queues and their policy; add or remove drivers")
        events.subscribe(events.STATUS_CHANGED, handlers.on_stations_changed, batch=True)
        events.subscribe(events.STATION_CONNECTED, handlers.on_stations_changed, batch=True)
        events.subscribe(events.SESSION_STARTED, handlers.on_session_started)
        policies.register(policies.AUTHORIZATION, services.tap_authorization)
        policies.register(policies.NEXT_WAITING, selectors.next_waiting)
        policies.register(policies.SESSION_RESERVED, selectors.session_reserved)
        policies.register(policies.QUEUE_LENGTHS, selectors.queue_lengths)  # drivers
        policies.register(policies.WAITLIST_JOIN_URL, views.join_url_of_station)  # drivers
        # the drivers' accounts (issue 20): places, join, leave with a verified card
        from . import driver_account

        policies.register(policies.DRIVER_QUEUES, driver_account.driver_queues)
        policies.register(policies.DRIVER_QUEUE_JOIN, driver_account.driver_queue_join)
        policies.register(policies.DRIVER_QUEUE_LEAVE, driver_account.driver_queue_leave)
        panels.register(
            panels.Panel(
                page=panels.STATION,
                slot="facts",
                name="waitlist.station_queue",
                template_name="waitlist/_station_queue.html",
                permission="waitlist.view",
                context=waitlist_panels.station_queue_panel,
            )
        )
