from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from apps.core import permissions

        permissions.register(
            "audit.view",
            "Read the audit log",
        )
