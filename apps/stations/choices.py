from django.db import models
from django.utils.translation import gettext_lazy as _


class OcppVersion(models.TextChoices):
    V16 = "1.6", "OCPP 1.6J"
    V201 = "2.0.1", "OCPP 2.0.1"


class SecurityProfile(models.IntegerChoices):
    """OCPP security profiles (1.6 security white paper §2, 2.0.1 Part 2 A00)."""

    BASIC = 1, _("1: HTTP Basic auth")
    TLS_BASIC = 2, _("2: TLS with HTTP Basic auth")
    TLS_CLIENT_CERTIFICATE = 3, _("3: TLS with a client certificate")


class RegistrationStatus(models.TextChoices):
    ACCEPTED = "Accepted", _("Accepted")
    PENDING = "Pending", _("Pending approval")
    REJECTED = "Rejected", _("Rejected")


class ConnectorStatus(models.TextChoices):
    """OCPP 1.6 ChargePointStatus and 2.0.1 ConnectorStatusEnumType, one list."""

    AVAILABLE = "Available", _("Available")
    PREPARING = "Preparing", _("Preparing")
    CHARGING = "Charging", _("Charging")
    SUSPENDED_EV = "SuspendedEV", _("Suspended by vehicle")
    SUSPENDED_EVSE = "SuspendedEVSE", _("Suspended by station")
    FINISHING = "Finishing", _("Finished, still plugged in")
    OCCUPIED = "Occupied", _("Occupied")
    RESERVED = "Reserved", _("Reserved")
    UNAVAILABLE = "Unavailable", _("Unavailable")
    FAULTED = "Faulted", _("Faulted")
    UNKNOWN = "Unknown", _("Unknown")


class LiveState(models.TextChoices):
    """What the dashboard and map show: a connector status folded with the station's link."""

    AVAILABLE = "available", _("Available")
    CHARGING = "charging", _("Charging")
    # 1.6 Preparing: plugged in or authorised, no energy yet (no session may exist): not
    # counted as charging, or the dashboard says "charging" beside "0 active sessions".
    PREPARING = "preparing", _("Plugged in, not charging yet")
    FINISHED = "finished", _("Finished, waiting to be moved")
    RESERVED = "reserved", _("Reserved")
    FAULTED = "faulted", _("Faulted")
    UNAVAILABLE = "unavailable", _("Unavailable")
    OFFLINE = "offline", _("Offline")


LIVE_STATE_OF_STATUS = {
    ConnectorStatus.AVAILABLE: LiveState.AVAILABLE,
    ConnectorStatus.PREPARING: LiveState.PREPARING,
    ConnectorStatus.CHARGING: LiveState.CHARGING,
    ConnectorStatus.SUSPENDED_EV: LiveState.CHARGING,
    ConnectorStatus.SUSPENDED_EVSE: LiveState.CHARGING,
    ConnectorStatus.OCCUPIED: LiveState.CHARGING,
    ConnectorStatus.FINISHING: LiveState.FINISHED,
    ConnectorStatus.RESERVED: LiveState.RESERVED,
    ConnectorStatus.UNAVAILABLE: LiveState.UNAVAILABLE,
    ConnectorStatus.FAULTED: LiveState.FAULTED,
    ConnectorStatus.UNKNOWN: LiveState.UNAVAILABLE,
}


class ConnectorType(models.TextChoices):
    TYPE1 = "cType1", "SAE J1772 (Type 1)"
    TYPE2 = "cType2", "IEC 62196 Type 2"
    CCS1 = "cCCS1", "CCS1"
    CCS2 = "cCCS2", "CCS2"
    CHADEMO = "cChaoJi", "CHAdeMO"
    NACS = "cNACS", "NACS (SAE J3400)"
    OTHER = "Other", _("Other")


class StatusKind(models.TextChoices):
    CONNECTOR = "connector", _("Connector status")
    CONNECTION = "connection", _("Station online / offline")
