from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertKind(models.TextChoices):
    OFFLINE = "offline", _("Station offline")
    FAULTED = "faulted", _("Port faulted")


class AlertEvent(models.TextChoices):
    RAISED = "raised", _("raised")
    CLEARED = "cleared", _("cleared")
