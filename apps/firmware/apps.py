from django.apps import AppConfig


class FirmwareConfig(AppConfig):
    name = "apps.firmware"
    label = "firmware"
    verbose_name = "Firmware updates"

    def ready(self) -> None:
        from apps.core import events, permissions

        from . import handlers

        permissions.register("firmware.view", "See firmware images and update campaigns")
        permissions.register(
            "firmware.manage", "Upload firmware and run, pause and cancel update campaigns"
        )
        events.subscribe(events.FIRMWARE_STATUS, handlers.on_firmware_status)
