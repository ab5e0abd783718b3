from django.apps import AppConfig


class EnergyConfig(AppConfig):
    name = "apps.energy"
    label = "energy"
    verbose_name = "Energy integrations"

    def ready(self) -> None:
        from apps.core.permissions import register

        register("energy.view", "See OpenADR VENs and demand-response events")
        register("energy.manage", "Configure OpenADR VENs and opt in or out of events")
        register("energy.bms", "Building-management API: read loads, set limits, push loads")
