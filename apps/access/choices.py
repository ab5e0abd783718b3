from django.db import models
from django.utils.translation import gettext_lazy as _


class RuleKind(models.TextChoices):
    PUBLIC = "public", _("Public: any valid token")
    MEMBERS = "members", _("Members of the rule's groups")
    PRIVATE = "private", _("Private: nobody, unless another rule here admits them")


class HolidayMode(models.TextChoices):
    AS_USUAL = "as_usual", _("Holidays like any other day")
    SKIP = "skip", _("Not on holidays")
    ONLY = "only", _("Only on holidays")


class Level(models.IntegerChoices):
    """Where a rule is attached; the most specific level with rules decides."""

    PORT = 1, _("Port")
    STATION = 2, _("Station")
    SITE = 3, _("Site")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Refusal(models.TextChoices):
    """Why a token was refused (the OCPP 2.0.1 AuthorizationStatus names)."""

    NOT_AT_THIS_LOCATION = "NotAtThisLocation", _("Not allowed at this place")
    NOT_AT_THIS_TIME = "NotAtThisTime", _("Not allowed at this time")
