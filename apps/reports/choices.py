from django.db import models
from django.utils.translation import gettext_lazy as _

# What a port was doing, second by second (the rollups keep seconds in each).  The station's
# link comes first: a port of an offline station is "offline" whatever it last reported.
STATE_COLUMNS = (
    "seconds_available",
    "seconds_charging",
    "seconds_finished",
    "seconds_reserved",
    "seconds_faulted",
    "seconds_unavailable",
    "seconds_offline",
)


class Period(models.TextChoices):
    DAY = "day", _("Day")
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")


class Grain(models.TextChoices):
    QUARTER = "15min", _("15 minutes")
    HOUR = "hour", _("Hour")
    DAY = "day", _("Day")


class GroupBy(models.TextChoices):
    SITE = "site", _("Site")
    STATION = "station", _("Station")
    PORT = "port", _("Port")
