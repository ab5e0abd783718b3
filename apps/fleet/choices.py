from django.db import models
from django.utils.translation import gettext_lazy as _


class CardKind(models.TextChoices):
    RFID = "rfid", _("RFID card")
    # OCPP 1.6 Autocharge: the station authorises the vehicle's own identifier (commonly
    # derived from the EV's MAC address) when it is plugged in.
    AUTOCHARGE = "autocharge", _("Autocharge vehicle id")


class TelemetrySource(models.TextChoices):
    API = "api", _("API")
    WEBHOOK = "webhook", _("Telematics webhook")


# The keys a token stands for in access groups (policies.TOKEN_MEMBERSHIPS).
MEMBER_VEHICLE = "fleet.vehicle"
MEMBER_FLEET = "fleet.fleet"
MEMBER_PERSON = "accounts.user"
