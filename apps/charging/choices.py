from django.db import models
from django.utils.translation import gettext_lazy as _


class TokenType(models.TextChoices):
    """OCPP 2.0.1 IdTokenEnumType (1.6 idTags are ISO14443/ISO15693 RFID UIDs)."""

    ISO14443 = "ISO14443", _("RFID card (ISO 14443)")
    ISO15693 = "ISO15693", _("RFID card (ISO 15693)")
    CENTRAL = "Central", _("Issued by the network (app, remote start)")
    EMAID = "eMAID", _("Plug & Charge contract (eMAID)")
    MAC_ADDRESS = "MacAddress", _("Vehicle MAC (Autocharge)")
    KEY_CODE = "KeyCode", _("Key code")
    LOCAL = "Local", _("Local")
    NO_AUTHORIZATION = "NoAuthorization", _("No authorisation")


class AuthorizationStatus(models.TextChoices):
    ACCEPTED = "Accepted", _("Accepted")
    BLOCKED = "Blocked", _("Blocked")
    EXPIRED = "Expired", _("Expired")
    INVALID = "Invalid", _("Invalid")
    CONCURRENT_TX = "ConcurrentTx", _("Already charging elsewhere")
    UNKNOWN = "Unknown", _("Unknown")
    # OCPP 2.0.1 only (access rules); the 1.6 adapter answers Blocked (ocpp/v16.py)
    NOT_AT_THIS_LOCATION = "NotAtThisLocation", _("Not allowed at this place")
    NOT_AT_THIS_TIME = "NotAtThisTime", _("Not allowed at this time")


class SessionStatus(models.TextChoices):
    ACTIVE = "active", _("Charging")
    COMPLETED = "completed", _("Completed")
    CLOSED_BY_RULE = "closed", _("Closed by the platform (station lost)")
