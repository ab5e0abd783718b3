from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditSource(models.TextChoices):
    PORTAL = "portal", _("Portal")
    API = "api", _("API")
    SYSTEM = "system", _("System")


class ActorKind(models.TextChoices):
    USER = "user", _("Person")
    API_KEY = "api_key", _("API key")
    SYSTEM = "system", _("System")
    ANONYMOUS = "anonymous", _("Anonymous")
