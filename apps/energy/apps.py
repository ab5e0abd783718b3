from django.apps import AppConfig


class EnergyConfig(AppConfig):
    name = "apps.energy"
    label = "energy"
    verbose_name = "Energy integrations"

    def ready(self) -> None:
        from apps.core import panels
        from apps.core.permissions import register

        register("energy.view", "See OpenADR VENs and demand-response events")
        register("energy.manage", "Configure OpenADR VENs and opt in or out of events")
        register("energy.bms", "Building-management API: read loads, set limits, push loads")
        panels.register(
            panels.Panel(
                page=panels.SITE,
                slot="links",
                name="energy.site_link",
                template_name="energy/_site_link.html",
                permission="energy.view",
            )
        )
