from django.db import models
from django.utils.translation import gettext_lazy as _


class EventStatus(models.TextChoices):
    """OpenADR 2.0b eventStatus, as the VTN last sent it."""

    NONE = "none", _("None")
    FAR = "far", _("Far")
    NEAR = "near", _("Near")
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Opt(models.TextChoices):
    IN = "optIn", _("Taking part")
    OUT = "optOut", _("Opted out")


class OptSource(models.TextChoices):
    DEFAULT = "default", _("The VEN's default rule")
    PERSON = "person", _("Chosen by a site admin")
    RULE = "rule", _("A rule of the VEN (length or day)")
    UNSUPPORTED = "unsupported", _("Signal not supported")


class SignalKind(models.TextChoices):
    """What an event asks for, as chargegrid maps it to a limit."""

    LEVEL = "level", _("Simple signal level (0-3)")
    KW_TARGET = "kw_target", _("Load target (kW)")
    OTHER = "other", _("Not supported")


class PollOutcome(models.TextChoices):
    NEVER = "never", _("Not polled yet")
    OK = "ok", _("Reached")
    UNREACHABLE = "unreachable", _("VTN unreachable")
    REFUSED = "refused", _("Registration refused")
