from django.db import models
from django.utils.translation import gettext_lazy as _


class PartnerStatus(models.TextChoices):
    """Where the credentials handshake stands (OCPI 2.2.1 §7.1)."""

    INVITED = "invited", _("Invited: waiting for the partner to register")
    CONNECTED = "connected", _("Connected")
    SUSPENDED = "suspended", _("Suspended")
    UNREGISTERED = "unregistered", _("Unregistered")


class PushStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    RETRYING = "retrying", _("Retrying")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed")
    # A newer state of the same object (an EVSE's status) was queued before this one was sent:
    # only the newer one goes (coalesced).
    SUPERSEDED = "superseded", _("Superseded by a newer state")


class Whitelist(models.TextChoices):
    """OCPI WhitelistType: when a token may charge without asking its eMSP in real time."""

    ALWAYS = "ALWAYS", _("Always (no real-time check)")
    ALLOWED = "ALLOWED", _("Allowed (check in real time if possible)")
    ALLOWED_OFFLINE = "ALLOWED_OFFLINE", _("Allowed when the eMSP is offline")
    NEVER = "NEVER", _("Never (always check in real time)")
