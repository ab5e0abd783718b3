from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "apps.support"
    label = "support"
    verbose_name = "Support"

    def ready(self) -> None:
        from apps.core import panels
        from apps.core.permissions import register

        from . import panels as support_panels

        register("support.view", "See support cases and their conversation")
        register("support.open", "Ask the platform's support team for help (open cases)")
        register("support.answer", "Answer, assign and resolve support cases")
        register("support.manage", "Canned answers and the support team's hours and targets")
        panels.register(
            panels.Panel(
                page=panels.STATION,
                slot="column",
                name="support.station_cases",
                template_name="support/_station_cases.html",
                permission="support.view",
                context=support_panels.station_cases_panel,
                order=150,
            )
        )
