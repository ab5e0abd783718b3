"""What the codes stations send mean, in words people read (issue 13: no raw codes on pages).

OCPP 1.6 ``ChargePointErrorCode`` values and the statuses of the history (connector statuses
and the link's Online/Offline) become short translated phrases; a station's own ``info`` text
("RCD tripped") says more than its code and wins where both exist."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .choices import ConnectorStatus

FAULT_WORDS = {
    "ConnectorLockFailure": _("The connector lock failed"),
    "EVCommunicationError": _("No communication with the vehicle"),
    "GroundFailure": _("Ground fault (the RCD tripped)"),
    "HighTemperature": _("Too hot"),
    "InternalError": _("Internal error"),
    "LocalListConflict": _("Its token list disagrees with ours"),
    "OtherError": _("Another error"),
    "OverCurrentFailure": _("Over current"),
    "OverVoltage": _("Over voltage"),
    "PowerMeterFailure": _("The meter failed"),
    "PowerSwitchFailure": _("The power switch failed"),
    "ReaderFailure": _("The card reader failed"),
    "ResetFailure": _("A reset failed"),
    "UnderVoltage": _("Under voltage"),
    "WeakSignal": _("Weak mobile signal"),
}
LINK_WORDS = {"Online": _("Connected"), "Offline": _("Disconnected")}


def fault_words(error_code: str, info: str = "") -> str:
    """The station's own text, else the code in words ("" for NoError or nothing)."""
    if info:
        return info
    if not error_code or error_code == "NoError":
        return ""
    return str(FAULT_WORDS.get(error_code, error_code))


def status_words(status: str) -> str:
    """A status of the history in words (a connector status, or the link's Online/Offline)."""
    if status in LINK_WORDS:
        return str(LINK_WORDS[status])
    try:
        return str(ConnectorStatus(status).label)
    except ValueError:
        return status
