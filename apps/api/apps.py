from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "apps.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        from apps.core.permissions import register

        from . import schema  # noqa: F401  (OpenAPI extensions register on import)

        register(
            "ocpp.raw_call",
            "Send any OCPP action with a raw payload to a station (operators, site admins)",
        )
