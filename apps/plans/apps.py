from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "apps.plans"
    label = "plans"
    verbose_name = "Cloud plans"

    def ready(self) -> None:
        from apps.core import panels, permissions, policies

        from . import handlers

        permissions.register("plans.view", "See the tenant's cloud plans, seats and expiries")
        permissions.register("plans.manage", "Activate and release ports against cloud plans")
        policies.register(policies.AUTHORIZATION, handlers.authorization)
        panels.register(
            panels.Panel(
                page=panels.STATION,
                slot="facts",
                name="plans.cloud_plan",
                template_name="plans/_station_plan.html",
                permission="stations.view",
                context=handlers.station_plan_panel,
            )
        )
