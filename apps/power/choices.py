from django.db import models
from django.utils.translation import gettext_lazy as _

from .allocation import Reason


class NodeKind(models.TextChoices):
    SUPPLY = "supply", _("Site supply")
    PANEL = "panel", _("Panel")
    CIRCUIT = "circuit", _("Circuit")


class Lines(models.TextChoices):
    """The grid lines a node's conductors carry (a sub-panel may have one or two)."""

    THREE = "L1L2L3", "L1 L2 L3"
    L1 = "L1", "L1"
    L2 = "L2", "L2"
    L3 = "L3", "L3"
    L1L2 = "L1L2", "L1 L2"
    L2L3 = "L2L3", "L2 L3"
    L3L1 = "L3L1", "L3 L1"


LINE_INDEXES = {
    Lines.THREE: (0, 1, 2),
    Lines.L1: (0,),
    Lines.L2: (1,),
    Lines.L3: (2,),
    Lines.L1L2: (0, 1),
    Lines.L2L3: (1, 2),
    Lines.L3L1: (2, 0),
}


class Wiring(models.TextChoices):
    THREE_PHASE = "three_phase", _("Three-phase (each phase to neutral)")
    SINGLE_PHASE = "single_phase", _("Single-phase (line to neutral)")
    LINE_TO_LINE = "line_to_line", _("Single-phase between two lines (208/240 V)")


class PhaseRotation(models.TextChoices):
    """OCPP ConnectorPhaseRotation: which grid line (R=L1, S=L2, T=L3) each of the EVSE's
    phases is wired to.  For a single-phase EVSE the first letter is its line; for a
    line-to-line EVSE the first two letters."""

    RST = "RST", _("RST (standard)")
    RTS = "RTS", "RTS"
    SRT = "SRT", "SRT"
    STR = "STR", "STR"
    TRS = "TRS", "TRS"
    TSR = "TSR", "TSR"


class RateUnit(models.TextChoices):
    AMPS = "A", _("Amps per phase")
    WATTS = "W", _("Watts")


class AllocationReason(models.TextChoices):
    PAUSED = Reason.PAUSED.value, _("Paused: waiting for its turn")
    MIN = Reason.MIN.value, _("Minimum: the node is full")
    SHARE = Reason.SHARE.value, _("Equal share")
    PRIORITY = Reason.PRIORITY.value, _("Less: higher priority sessions first")
    MAX = Reason.MAX.value, _("Maximum of the station")
    VEHICLE = Reason.VEHICLE.value, _("What the vehicle uses")
    HOLD = Reason.HOLD.value, _("Raise held back (no flapping)")
    SCHEDULED = Reason.SCHEDULED.value, _("Scheduled: waiting for its start")
    UNMANAGED = Reason.UNMANAGED.value, _("Not reachable: counted at its maximum")
    IDLE = Reason.IDLE.value, _("No session: default limit")


class PushState(models.TextChoices):
    SYNCED = "synced", _("Applied by the station")
    PENDING = "pending", _("To be sent")
    RETRYING = "retrying", _("Failed, retrying")
    UNREACHABLE = "unreachable", _("Not reachable: counted at its maximum")


class LimitSource(models.TextChoices):
    MANUAL = "manual", _("Set in the portal")
    API = "api", _("Energy-management API")
    DEMAND_RESPONSE = "demand_response", _("Demand response (OpenADR)")


class ScheduleMode(models.TextChoices):
    IMMEDIATE = "immediate", _("Charge at once")
    START_AT = "start_at", _("Start at a set time")
    CHEAPEST = "cheapest", _("Cheapest hours before departure")


class AlertKind(models.TextChoices):
    PUSH_FAILED = "push_failed", _("Charging profile not applied")
    OVERLOAD = "overload", _("Load above a limit")


# Weekdays as a bit mask (Monday = bit 0), for limit, load and price windows.
EVERY_DAY = 0b1111111
WEEKDAYS = 0b0011111
