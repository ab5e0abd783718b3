from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertKind(models.TextChoices):
    OFFLINE = "offline", _("Station offline")
    FAULTED = "faulted", _("Port faulted")


class AlertSeverity(models.TextChoices):
    CRITICAL = "critical", _("Critical")  # nobody can charge: the station is down
    WARNING = "warning", _("Warning")  # one port is out; the others work


class AlertEvent(models.TextChoices):
    RAISED = "raised", _("raised")
    CLEARED = "cleared", _("cleared")
