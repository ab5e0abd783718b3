from decimal import Decimal

from django.apps import AppConfig

# The `ocpp` library (2.1.0) caches schema validators by name only, ignoring `parse_float`;
# for the three 1.6 messages with `multipleOf 0.1` it validates Decimal-parsed payloads, so a
# validator first loaded with floats (by anyone in the process) later fails with TypeError.
# Loading them with Decimal first makes every later lookup consistent.
DECIMAL_SCHEMAS_16 = [
    (2, "SetChargingProfile"),
    (2, "RemoteStartTransaction"),
    (3, "GetCompositeSchedule"),
]


class OcppConfig(AppConfig):
    name = "apps.ocpp"
    label = "ocpp"
    verbose_name = "OCPP central system"

    def ready(self) -> None:
        from ocpp.messages import get_validator

        for message_type, action in DECIMAL_SCHEMAS_16:
            get_validator(message_type, action, "1.6", parse_float=Decimal)

        from .handshake import connect_signals

        connect_signals()
