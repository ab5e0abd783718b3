from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    UNVERIFIED = "unverified", _("Waiting for the driver to confirm their e-mail")
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    WAITING = "waiting", _("Waiting for the requester")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# A case someone is still working on (its SLA clocks run).
ACTIVE_STATUSES = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING)


class CasePriority(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


# The SLA targets of the settings are for a normal case; the others take this share of them.
PRIORITY_FACTOR = {
    CasePriority.URGENT: 0.25,
    CasePriority.HIGH: 0.5,
    CasePriority.NORMAL: 1.0,
    CasePriority.LOW: 2.0,
}


class CaseCategory(models.TextChoices):
    CHARGE_FAILED = "charge_failed", _("I was charged but charging failed")
    CARD_REFUSED = "card_refused", _("My card was refused")
    STATION_FAULT = "station_fault", _("The station is broken or damaged")
    CABLE_STUCK = "cable_stuck", _("The cable is stuck")
    BILLING = "billing", _("Price, receipt or refund")
    ACCESS = "access", _("Access to the station or the car park")
    ACCOUNT = "account", _("My account or card")
    CONFIGURATION = "configuration", _("Configuration of stations or sites")
    OTHER = "other", _("Something else")


# What a driver may choose on the public form (the rest are station managers' topics).
DRIVER_CATEGORIES = (
    CaseCategory.CHARGE_FAILED,
    CaseCategory.CARD_REFUSED,
    CaseCategory.STATION_FAULT,
    CaseCategory.CABLE_STUCK,
    CaseCategory.BILLING,
    CaseCategory.ACCESS,
    CaseCategory.ACCOUNT,
    CaseCategory.OTHER,
)


class RequesterKind(models.TextChoices):
    DRIVER = "driver", _("Driver")
    MANAGER = "manager", _("Station manager")


class Queue(models.TextChoices):
    """Who answers: the tenant's own staff, or the platform operator's support team."""

    TENANT = "tenant", _("Our staff")
    PLATFORM = "platform", _("Platform support")


class Source(models.TextChoices):
    PUBLIC = "public", _("Public form")
    PORTAL = "portal", _("Portal")
    EMAIL = "email", _("E-mail")
    API = "api", _("API")
    PLATFORM = "platform", _("Platform support page")
    SYSTEM = "system", _("System")


class AuthorKind(models.TextChoices):
    REQUESTER = "requester", _("Requester")
    STAFF = "staff", _("Staff")
    PLATFORM = "platform", _("Platform support")
    SYSTEM = "system", _("System")


class StationAction(models.TextChoices):
    SOFT_RESET = "soft_reset", _("Soft reset")
    HARD_RESET = "hard_reset", _("Hard reset")
    UNLOCK = "unlock", _("Unlock the connector")


# Attachments: what their first bytes must be (the browser's word is not trusted).
ATTACHMENT_TYPES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),  # and "WEBP" at offset 8
    "application/pdf": (b"%PDF-",),
}
ATTACHMENT_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}
