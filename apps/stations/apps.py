from django.apps import AppConfig


class StationsConfig(AppConfig):
    name = "apps.stations"
    label = "stations"
    verbose_name = "Stations"

    def ready(self) -> None:
        from apps.core.permissions import register

        register("sites.view", "See sites")
        register("sites.manage", "Create, edit and delete sites")
        register("stations.view", "See stations, ports and their status")
        register("stations.configure", "Change station settings and configuration")
        register("stations.command", "Send remote commands to stations")
        register("sessions.view", "See charging sessions")
        register("reports.view", "Read reports")
        register("reports.receive", "Receive scheduled reports")
