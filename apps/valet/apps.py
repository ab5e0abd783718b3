from django.apps import AppConfig


class ValetConfig(AppConfig):
    name = "apps.valet"
    label = "valet"
    verbose_name = "Valet"

    def ready(self) -> None:
        from apps.core import events, panels
        from apps.core.permissions import register

        from . import handlers

        register("valet.view", "See the valet board: finished sessions and cars to move")
        register("valet.act", "Mark cars moved, reassign them, ask drivers to move their car")
        events.subscribe(events.STATUS_CHANGED, handlers.on_board_changed)
        events.subscribe(events.SESSION_STARTED, handlers.on_board_changed)
        events.subscribe(events.SESSION_ENDED, handlers.on_board_changed)
        panels.register(
            panels.Panel(
                page=panels.SITE,
                slot="links",
                name="valet.site_link",
                template_name="valet/_site_link.html",
                permission="valet.view",
            )
        )
