from django.apps import AppConfig


class ChargingConfig(AppConfig):
    name = "apps.charging"
    label = "charging"
    verbose_name = "Charging sessions"

    def ready(self) -> None:
        from apps.core.permissions import register

        register("tokens.view", "See RFID cards and other tokens")
        register("tokens.manage", "Create, block and delete tokens")
